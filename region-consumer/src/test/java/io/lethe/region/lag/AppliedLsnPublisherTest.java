package io.lethe.region.lag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AppliedLsnPublisherTest {
    private final Map<String, String> redis = new HashMap<>();
    private final List<Map<String, String>> writes = new ArrayList<>();
    private final AppliedWatermarks watermarks = new AppliedWatermarks();
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
    }, "g", () -> 2, () -> 2);

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
}
