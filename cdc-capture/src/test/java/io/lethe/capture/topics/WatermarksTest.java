package io.lethe.capture.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.schemas.Watermark;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The translator's watermarks name the source history the last check read, and start again in another one, claiming
 * only the changes the connector wrote after the history was taken on.
 */
class WatermarksTest {
    private static final TopicPartition P0 = new TopicPartition("dbz.public.items", 0);
    private static final TopicPartition P1 = new TopicPartition("dbz.public.items", 1);

    @Test
    void aWatermarkNamesTheHistoryItsLsnIsIn() {
        Coverage coverage = new Coverage();
        Watermarks watermarks = new Watermarks(coverage);
        watermarks.history("7000000000000000001/1", Map::of);
        coverage.translated(P0, 0, 5_000);
        watermarks.gate().heartbeat(1_000, Map.of(P0, 1L));
        assertEquals(Optional.of(new Watermark(1_000, 5_000, -1, "7000000000000000001/1")), watermarks.release(tp -> 1L));
        watermarks.history(null, Map::of); // a check that could not read it changes nothing
        watermarks.gate().heartbeat(2_000, Map.of(P0, 1L));
        assertEquals("7000000000000000001/1", watermarks.release(tp -> 1L).orElseThrow().history());
    }

    @Test
    void anotherHistoryDropsTheHeartbeatsHeldAndClaimsOnlyWhatCameAfter() {
        Coverage coverage = new Coverage();
        Watermarks watermarks = new Watermarks(coverage);
        watermarks.history("7000000000000000001/1", Map::of);
        coverage.translated(P0, 0, 5_000);
        assertEquals(5_000, coverage.cover(Map.of(P0, 1L)));
        watermarks.gate().heartbeat(1_000, Map.of(P0, 1L));
        // a failover: the new timeline's LSNs are lower
        watermarks.history("7000000000000000001/2", () -> Map.of(P0, 1L));
        assertEquals(Optional.empty(), watermarks.release(tp -> 1L), "a heartbeat read before the new history was seen");
        watermarks.gate().heartbeat(2_000, Map.of(P0, 1L));
        assertEquals(Optional.empty(), watermarks.release(tp -> 1L), "no change of the new history yet: nothing to claim");
        coverage.translated(P0, 1, 4_200);
        watermarks.gate().heartbeat(3_000, Map.of(P0, 2L));
        assertEquals(Optional.of(new Watermark(3_000, 4_200, -1, "7000000000000000001/2")), watermarks.release(tp -> 2L));
    }

    @Test
    void oldTimelineChangesTranslatedAfterTheNewHistoryWasSeenClaimNothing() {
        Coverage coverage = new Coverage();
        Watermarks watermarks = new Watermarks(coverage);
        watermarks.history("7000000000000000001/1", Map::of);
        // a failover: the connector's topic still holds an old-timeline change at offset 0 (LSN 9000), unread, when the
        // check sees the new timeline (at ~4000): the end offset then, 1, is the fence
        watermarks.history("7000000000000000001/2", () -> Map.of(P0, 1L));
        coverage.translated(P0, 0, 9_000);
        coverage.translated(P0, 1, 4_000); // the new timeline's first change
        watermarks.gate().heartbeat(1_000, Map.of(P0, 2L));
        // failed first (before the fence): expected <4000> but was <9000>, an h/2 token at 8000 served from the cache
        assertEquals(4_000, watermarks.release(tp -> 2L).orElseThrow().lsn(), "the old timeline's 9000 under the new history's name");
    }

    @Test
    void aRestartedTranslatorClaimsNothingOfTheBacklogItFoundAtItsStart() {
        Coverage coverage = new Coverage();
        Watermarks watermarks = new Watermarks(coverage);
        // the first check after a start (whatever history was kept): the backlog up to offset 1 may be the old timeline's
        watermarks.history("7000000000000000001/2", () -> Map.of(P0, 1L));
        coverage.translated(P0, 0, 9_000);
        coverage.translated(P0, 1, 4_000);
        watermarks.gate().heartbeat(1_000, Map.of(P0, 2L));
        assertEquals(4_000, watermarks.release(tp -> 2L).orElseThrow().lsn(), "a backlog change under the history the first check saw");
    }

    @Test
    void noWatermarkUntilEveryPartitionIsReadPastTheFence() {
        Coverage coverage = new Coverage();
        Watermarks watermarks = new Watermarks(coverage);
        watermarks.history("7000000000000000001/2", () -> Map.of(P0, 1L, P1, 3L));
        coverage.translated(P0, 1, 4_000);
        // (a heartbeat read after the fence waits for ends at or beyond it; this one does not, so the fence itself is seen to hold)
        watermarks.gate().heartbeat(1_000, Map.of(P0, 2L, P1, 0L));
        assertEquals(Optional.empty(), watermarks.release(tp -> tp.equals(P0) ? 2L : 1L), "partition 1 is not read past its fence");
        assertEquals(4_000, watermarks.release(tp -> tp.equals(P0) ? 2L : 3L).orElseThrow().lsn());
    }

    @Test
    void endOffsetsThatCannotBeTakenHoldEveryWatermark() {
        Coverage coverage = new Coverage();
        Watermarks watermarks = new Watermarks(coverage);
        watermarks.history("7000000000000000001/1", Map::of);
        watermarks.history("7000000000000000001/2", () -> {
            throw new TimeoutException("Kafka away");
        });
        coverage.translated(P0, 0, 9_000);
        watermarks.gate().heartbeat(1_000, Map.of(P0, 1L));
        assertEquals(Optional.empty(), watermarks.release(tp -> 1L), "no fence: under neither history");
        watermarks.history("7000000000000000001/2", () -> Map.of(P0, 1L)); // the next check takes it
        coverage.translated(P0, 1, 4_000);
        watermarks.gate().heartbeat(2_000, Map.of(P0, 2L));
        assertEquals(Optional.of(new Watermark(2_000, 4_000, -1, "7000000000000000001/2")), watermarks.release(tp -> 2L));
    }
}
