package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AppliedLsnPublisherTest {
    private final Map<String, String> redis = new HashMap<>();
    private final List<Map<String, String>> writes = new ArrayList<>();
    private final AppliedWatermarks watermarks = new AppliedWatermarks();
    private Optional<PartitionCounts.Counts> counts = Optional.of(new PartitionCounts.Counts(2, 2));
    private final AppliedLsnPublisher publisher = new AppliedLsnPublisher(watermarks, new AppliedLsnPublisher.Target() {
        @Override
        public void hset(String key, Map<String, String> fields) {
            assertEquals("lethe:lsn:g", key);
            writes.add(Map.copyOf(fields));
            redis.putAll(fields);
        }

        @Override
        public void hdel(String key, String... fields) {
            for (String f : fields) {
                redis.remove(f);
            }
        }
    }, "g", () -> counts);

    @Test
    void aPartitionIsPublishedOnceEveryChangesPartitionsHeartbeatCameThroughIt() {
        watermarks.assigned(Set.of(0, 1));
        watermarks.applied(0, new Watermark(1_000, 100, 0));
        publisher.publish(Set.of(0, 1));
        assertTrue(writes.isEmpty(), "changes partition 1 may still hold an older change for partition 0");

        watermarks.applied(0, new Watermark(2_000, 80, 1));
        watermarks.applied(1, new Watermark(1_000, 100, 0));
        watermarks.applied(1, new Watermark(1_000, 100, 1));
        publisher.publish(Set.of(0, 1));
        assertEquals(OptionalLong.of(80), AppliedLsn.of(redis), "the oldest source of the oldest partition");
        assertEquals(OptionalLong.of(1_000), AppliedLsn.commitTs(redis));
        assertEquals(OptionalLong.of(80), publisher.published(Set.of(0, 1)));

        publisher.publish(Set.of(0, 1));
        assertEquals(1, writes.size(), "nothing moved: nothing written");
    }

    @Test
    void aRestoreWithdrawsWhatWasPublishedUntilHeartbeatsAreAppliedAgain() {
        watermarks.assigned(Set.of(0, 1));
        for (int p = 0; p < 2; p++) {
            for (int s = 0; s < 2; s++) {
                watermarks.applied(p, new Watermark(1_000, 500, s));
            }
        }
        publisher.publish(Set.of(0, 1));
        assertEquals(OptionalLong.of(500), AppliedLsn.of(redis));

        watermarks.reset();
        publisher.publish(Set.of(0, 1));
        assertTrue(AppliedLsn.of(redis).isEmpty(), "the restored data's watermark is not to be trusted");
        assertTrue(publisher.published(Set.of(0, 1)).isEmpty());
    }

    @Test
    void countsAreReadAgainWithEveryWriteSoAddedPartitionsAreNotCoveredBeforeTheyAreApplied() {
        watermarks.assigned(Set.of(0, 1));
        for (int p = 0; p < 2; p++) {
            for (int s = 0; s < 2; s++) {
                watermarks.applied(p, new Watermark(1_000, 500, s));
            }
        }
        publisher.publish(Set.of(0, 1));
        assertEquals(OptionalLong.of(500), AppliedLsn.of(redis));

        // partitions added to both topics; this consumer still owns 0 and 1 of the region's topic
        counts = Optional.of(new PartitionCounts.Counts(4, 3));
        for (int p = 0; p < 2; p++) {
            for (int s = 0; s < 2; s++) {
                watermarks.applied(p, new Watermark(2_000, 900, s));
            }
        }
        publisher.publish(Set.of(0, 1));
        assertEquals(OptionalLong.of(500), AppliedLsn.of(redis), "not raised to 900: changes partition 2 may hold an older "
                + "change, and region partitions 2 and 3 were applied by no one: " + redis);

        for (int p = 0; p < 2; p++) {
            watermarks.applied(p, new Watermark(2_000, 900, 2));
        }
        publisher.publish(Set.of(0, 1));
        assertEquals("4", redis.get(AppliedLsn.PARTITIONS));
        assertEquals("900", redis.get("0"));
        assertTrue(AppliedLsn.of(redis).isEmpty(), "region partitions 2 and 3 have no watermark yet: " + redis);

        counts = Optional.empty();
        watermarks.applied(0, new Watermark(3_000, 1_200, 0));
        watermarks.applied(0, new Watermark(3_000, 1_200, 1));
        watermarks.applied(0, new Watermark(3_000, 1_200, 2));
        publisher.publish(Set.of(0, 1));
        assertEquals("900", redis.get("0"), "counts not known now: nothing is published");
    }

    @Test
    void everyPartitionsFieldNamesItsSourceHistoryAndAChangeOfHistoryWithdrawsTheOldOne() {
        watermarks.assigned(Set.of(0, 1));
        for (int p = 0; p < 2; p++) {
            for (int s = 0; s < 2; s++) {
                watermarks.applied(p, new Watermark(1_000, 500, s, "s/1"));
            }
        }
        publisher.publish(Set.of(0, 1));
        assertEquals(OptionalLong.of(500), AppliedLsn.of(redis, "s/1"));
        assertTrue(AppliedLsn.of(redis, "s/2").isEmpty());

        watermarks.applied(0, new Watermark(2_000, 200, 0, "s/2"));
        publisher.publish(Set.of(0, 1));
        assertTrue(AppliedLsn.of(redis).isEmpty(), "timeline 1's watermark withdrawn: " + redis);
        for (int p = 0; p < 2; p++) {
            for (int s = 0; s < 2; s++) {
                watermarks.applied(p, new Watermark(2_000, 210, s, "s/2"));
            }
        }
        publisher.publish(Set.of(0, 1));
        assertEquals(OptionalLong.of(210), AppliedLsn.of(redis, "s/2"));
        assertTrue(AppliedLsn.of(redis, "s/1").isEmpty(), "a token of timeline 1 is not covered by a position of timeline 2");
    }
}
