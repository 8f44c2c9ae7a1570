package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The replay floor (issue 34): an upsert whose commit LSN a partition's heartbeats have passed is a
 * redelivery or a copy, whatever its signature; a new one never is.
 */
class ReplayFloorTest {
    private static InvalidationEvent upsert(long lsn, Long commitLsn) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "c" + lsn, "price", Scope.ROW, "price:1", null, Action.UPSERT,
                "{}", Long.toString(lsn), lsn, 7L, 1, 1, 1, null, Op.UPDATE, "c" + lsn, null, commitLsn);
    }

    private static InvalidationEvent delete(long lsn) {
        return upsert(lsn, lsn + 1).asDelete();
    }

    @Test
    void anUpsertAtOrBelowTheOldestHeartbeatOfEveryChangesPartitionIsReplayedOneAboveIsNot() {
        ReplayFloor floor = new ReplayFloor(() -> 2);
        assertFalse(floor.replayed(upsert(10, 11L), 0), "nothing known: not known to be replayed");
        assertEquals(ReplayFloor.Verdict.NO_FLOOR, floor.judge(upsert(10, 11L), 0), "nothing known: nothing proves it new either");
        floor.seen(0, new Watermark(1, 100, 0, "h"));
        assertEquals(OptionalLong.empty(), floor.floor(0), "changes partition 1 may still hold older changes");
        assertFalse(floor.replayed(upsert(10, 11L), 0));
        assertEquals(ReplayFloor.Verdict.NO_FLOOR, floor.judge(upsert(500, 501L), 0),
                "a heartbeat of one changes partition of two is no floor");
        floor.seen(0, new Watermark(1, 80, 1, "h"));
        assertEquals(OptionalLong.of(80), floor.floor(0), "the oldest newest heartbeat over the changes partitions");
        assertTrue(floor.replayed(upsert(70, 80L), 0), "committed at the heartbeat: carried before it");
        assertFalse(floor.replayed(upsert(70, 81L), 0), "committed after it (a long transaction's early change): new");
        assertTrue(floor.replayed(upsert(79, null), 0), "commit unknown: judged by the change's own, lower LSN (at worst a delete)");
        assertFalse(floor.replayed(upsert(81, null), 0));
        assertEquals(ReplayFloor.Verdict.ABOVE, floor.judge(upsert(70, 81L), 0));
        assertFalse(floor.replayed(delete(10), 0), "deletes are applied as they are");
        assertEquals(ReplayFloor.Verdict.ABOVE, floor.judge(delete(10), 1), "deletes are applied as they are, floor or not");
        assertEquals(OptionalLong.empty(), floor.floor(1), "per partition of the region topic");
        assertEquals(ReplayFloor.Verdict.NO_FLOOR, floor.judge(upsert(500, 501L), 1), "partition 1 has no floor of its own yet");
        floor.seen(0, new Watermark(1, 50, 1, "h"));
        assertEquals(OptionalLong.of(80), floor.floor(0), "a heartbeat delivered again never lowers it");
    }

    @Test
    void theSeedFromTheRegionsRedisHoldsFromTheFirstRecordAfterARestart() {
        ReplayFloor floor = new ReplayFloor(() -> 0);
        floor.seed(Map.of("0", "500", AppliedLsn.HISTORY_PREFIX + "0", "h", "1", "400", AppliedLsn.HISTORY_PREFIX + "1", "h",
                AppliedLsn.PARTITIONS, "2", AppliedLsn.COMMIT_TS_PREFIX + "0", "999999"));
        assertEquals(OptionalLong.of(500), floor.floor(0));
        assertEquals(OptionalLong.of(400), floor.floor(1));
        assertEquals(OptionalLong.empty(), floor.floor(2), "a partition the published watermark does not name");
        // a redelivery after the restart (the committed offset was behind the published watermark): a delete, fine
        assertTrue(floor.replayed(upsert(450, 460L), 0));
        assertFalse(floor.replayed(upsert(450, 460L), 1), "above partition 1's seed: new there");
        assertTrue(floor.replayed(upsert(390, 395L), 1));
        assertFalse(floor.replayed(upsert(501, 502L), 0));
    }

    @Test
    void seekingBackKeepsTheFloorSoWhatIsReadAgainIsAtMostADelete() {
        ReplayFloor floor = new ReplayFloor(() -> 1);
        floor.seen(0, new Watermark(1, 100, 0, "h"));
        floor.seen(0, new Watermark(2, 200, 0, "h"));
        // a restore replay or a rebalance seeks back: the records and heartbeats before 200 are read again
        floor.seen(0, new Watermark(1, 100, 0, "h"));
        assertTrue(floor.replayed(upsert(150, 160L), 0), "read again after the floor passed it");
        assertFalse(floor.replayed(upsert(250, 260L), 0));
    }

    @Test
    void aWatermarkOfAnotherSourceHistoryForgetsEverythingSeedIncluded() {
        ReplayFloor floor = new ReplayFloor(() -> 1);
        floor.seed(Map.of("0", "9000", AppliedLsn.HISTORY_PREFIX + "0", "old"));
        floor.seen(0, new Watermark(1, 9500, 0, "old"));
        assertTrue(floor.replayed(upsert(100, 110L), 0), "the old history's floor judges what comes before the new one's heartbeat");
        // the source was restored: its LSNs went back; the new history's upserts are new
        floor.seen(0, new Watermark(2, 90, 0, "new"));
        assertEquals(OptionalLong.of(90), floor.floor(0));
        assertFalse(floor.replayed(upsert(100, 110L), 0));
        assertTrue(floor.replayed(upsert(80, 85L), 0));
    }

    @Test
    void afterAChangeOfSourceHistoryUpsertsHaveNoFloorUntilEveryChangesPartitionsHeartbeatCame() {
        ReplayFloor floor = new ReplayFloor(() -> 2);
        floor.seed(Map.of("0", "9000", AppliedLsn.HISTORY_PREFIX + "0", "old"));
        assertEquals(ReplayFloor.Verdict.ABOVE, floor.judge(upsert(9100, 9101L), 0), "the seed is a floor");
        floor.seen(0, new Watermark(2, 90, 0, "new"));
        assertEquals(ReplayFloor.Verdict.NO_FLOOR, floor.judge(upsert(100, 110L), 0),
                "the new history's first heartbeat, of one changes partition of two: a copy of its changes cannot be told yet");
        floor.seen(0, new Watermark(2, 95, 1, "new"));
        assertEquals(ReplayFloor.Verdict.ABOVE, floor.judge(upsert(100, 110L), 0));
        assertEquals(ReplayFloor.Verdict.REPLAYED, floor.judge(upsert(80, 85L), 0));
    }

    @Test
    void aChangesPartitionAddedLaterIsWaitedForOnceTheCountSaysSo() {
        AtomicInteger sources = new AtomicInteger(1);
        ReplayFloor floor = new ReplayFloor(sources::get);
        floor.seen(0, new Watermark(1, 100, 0, "h"));
        assertEquals(OptionalLong.of(100), floor.floor(0));
        sources.set(2);
        assertEquals(OptionalLong.empty(), floor.floor(0), "the new changes partition may carry older changes until its first heartbeat");
        assertEquals(ReplayFloor.Verdict.NO_FLOOR, floor.judge(upsert(150, 151L), 0), "meanwhile upserts are deletes");
        floor.seen(0, new Watermark(1, 120, 1, "h"));
        assertEquals(OptionalLong.of(100), floor.floor(0));
    }
}
