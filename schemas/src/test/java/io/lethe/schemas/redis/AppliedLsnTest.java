package io.lethe.schemas.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class AppliedLsnTest {
    @Test
    void theRegionsWatermarkIsTheOldestPartitionsAndUnknownWhileOneIsMissing() {
        assertEquals(OptionalLong.of(90), AppliedLsn.of(Map.of("partitions", "3", "0", "100", "1", "90", "2", "120")));
        assertEquals(OptionalLong.of(7), AppliedLsn.commitTs(Map.of("partitions", "2", "ts:0", "7", "ts:1", "9", "0", "1", "1", "1")));
        assertTrue(AppliedLsn.of(Map.of("partitions", "3", "0", "100", "2", "120")).isEmpty(), "partition 1 could hold anything");
        assertTrue(AppliedLsn.of(Map.of("0", "100")).isEmpty(), "without the partition count nothing is known");
        assertTrue(AppliedLsn.of(Map.of("partitions", "1", "0", "x")).isEmpty());
        assertTrue(AppliedLsn.of(Map.of()).isEmpty());
        assertTrue(AppliedLsn.of(null).isEmpty());
        assertEquals("lethe:lsn:lethe-region-us-east", AppliedLsn.key("lethe-region-us-east"));
    }
}
