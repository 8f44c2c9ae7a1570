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

    @Test
    void aWatermarkCoversOnlyTokensOfItsOwnSourceHistoryAndNeedsOneHistoryOverThePartitions() {
        Map<String, String> h1 = Map.of("partitions", "2", "0", "100", "1", "90", "h:0", "s/1", "h:1", "s/1");
        assertEquals(OptionalLong.of(90), AppliedLsn.of(h1, "s/1"));
        assertEquals(OptionalLong.of(90), AppliedLsn.of(h1));
        assertTrue(AppliedLsn.of(h1, "s/2").isEmpty(), "an LSN of timeline 1 says nothing of timeline 2's positions");
        Map<String, String> mixed = Map.of("partitions", "2", "0", "100", "1", "90", "h:0", "s/1", "h:1", "s/2");
        assertTrue(AppliedLsn.of(mixed).isEmpty(), "one partition still in the old history: " + mixed);
        assertTrue(AppliedLsn.of(mixed, "s/2").isEmpty());
        assertTrue(AppliedLsn.of(Map.of("partitions", "1", "0", "5"), "s/1").isEmpty(), "no history recorded: no token of one is covered");
        assertEquals(java.util.Optional.of(""), AppliedLsn.history(Map.of("partitions", "1", "0", "5")));
    }

    @Test
    void highestIsTheNewestPartitionPositionNotTheWatermark() {
        assertEquals(java.util.OptionalLong.of(900), AppliedLsn.highest(Map.of("partitions", "3", "0", "700", "1", "900", "2", "800",
                "ts:1", "99999", "h:0", "7/1")));
        assertEquals(java.util.OptionalLong.empty(), AppliedLsn.highest(Map.of("partitions", "2", "0", "x")));
    }
}
