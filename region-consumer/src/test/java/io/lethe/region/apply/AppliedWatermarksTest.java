package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.Watermark;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The region's applied watermark: the oldest over its partitions and the changes partitions they came through. */
class AppliedWatermarksTest {
    @Test
    void theOldestNewestWatermarkOverPartitionsAndSourcesIsTheRegionsPosition() {
        AppliedWatermarks w = new AppliedWatermarks();
        w.assigned(Set.of(0, 1));
        assertTrue(Double.isNaN(w.lagSeconds(10_000_000)), "unknown before the first watermark");
        w.applied(0, new Watermark(5_000_000, 1, 0));
        w.applied(0, new Watermark(7_000_000, 2, 1));
        w.applied(1, new Watermark(6_000_000, 1, 0));
        w.applied(1, new Watermark(8_000_000, 2, 1));
        w.applied(0, new Watermark(4_000_000, 0, 0)); // older, delivered again: never moves back
        assertEquals(OptionalLong.of(5_000_000), w.oldest(), "partition 0 has applied changes partition 0's stream only up to 5 s");
        assertEquals(5.0, w.lagSeconds(10_000_000), 1e-9);
        assertEquals("watermark=5000000", w.commitMetadata(0));
        assertEquals("watermark=6000000", w.commitMetadata(1));
        assertEquals(OptionalLong.of(6_000_000), AppliedWatermarks.fromCommitMetadata(w.commitMetadata(1)));
        assertEquals(OptionalLong.empty(), AppliedWatermarks.fromCommitMetadata(""));
    }

    @Test
    void aPartitionOrAChangesPartitionAddedLaterCountsFromWhenItWasExpectedUntilItsFirstWatermark() {
        AppliedWatermarks w = new AppliedWatermarks();
        w.assigned(Set.of(0), 1_000_000);
        w.applied(0, new Watermark(50_000_000, 1, 0));
        assertEquals(OptionalLong.of(50_000_000), w.oldest());

        // the region topic got a partition more: assigned at 60 s, nothing applied on it yet
        w.assigned(Set.of(0, 1), 60_000_000);
        w.applied(0, new Watermark(90_000_000, 2, 0));
        assertEquals(OptionalLong.of(60_000_000), w.oldest(), "partition 1 owned since 60 s without a watermark: behind since then");
        w.applied(1, new Watermark(89_000_000, 2, 0));
        assertEquals(OptionalLong.of(89_000_000), w.oldest());

        w.applied(0, new Watermark(97_000_000, 3, 0));
        w.applied(1, new Watermark(98_000_000, 3, 0));

        // the changes topic got a partition more: its first watermark reached partition 1 (95 s), not partition 0 yet
        w.applied(1, new Watermark(95_000_000, 4, 1));
        assertEquals(OptionalLong.of(95_000_000), w.oldest(), "partition 0 has heard nothing of changes partition 1, seen at 95 s");
        assertEquals(5.0, w.lagSeconds(100_000_000), 1e-9);
        w.applied(0, new Watermark(99_000_000, 4, 1));
        w.applied(1, new Watermark(99_500_000, 5, 1));
        assertEquals(OptionalLong.of(97_000_000), w.oldest());

        // a restore: nothing is known applied; once the replay brings a heartbeat to partition 0, partition 1 (owned since 60 s)
        // counts as far behind as that source's watermark, not since its assignment long ago
        w.reset();
        assertEquals(OptionalLong.empty(), w.oldest());
        w.applied(0, new Watermark(120_000_000, 6, 0));
        assertEquals(OptionalLong.of(120_000_000), w.oldest());
    }

    /**
     * Capture shards: a channel none of whose watermarks came since this consumer started (a shard
     * down, or added) is not left out of the lag once the channel count is known: it counts from
     * the assignment (found in review: the lag read healthy while one shard sent nothing).
     */
    @Test
    void aChannelWithoutAnyWatermarkYetCountsFromTheAssignmentOnceTheChannelsAreKnown() {
        AppliedWatermarks w = new AppliedWatermarks();
        w.assigned(Set.of(0), 10_000_000);
        w.applied(0, new Watermark(50_000_000, 1, 0)); // shard a's channel on changes partition 0; shard b (channel 1) is silent
        assertEquals(OptionalLong.of(50_000_000), w.oldest(), "the channel count is not known yet");
        w.expectChannels(2, 5_000_000);
        assertEquals(OptionalLong.of(10_000_000), w.oldest(), "channel 1 has sent nothing since the assignment at 10 s");
        assertEquals(AppliedWatermarks.METADATA_PREFIX + 10_000_000, w.commitMetadata(0));
        w.applied(0, new Watermark(49_000_000, 1, 1));
        assertEquals(OptionalLong.of(49_000_000), w.oldest());
        assertEquals(AppliedWatermarks.METADATA_PREFIX + 49_000_000, w.commitMetadata(0));
        // a changes partition added at 70 s: its channels count from then, not from the assignment at 10 s
        w.expectChannels(4, 70_000_000);
        assertEquals(OptionalLong.of(49_000_000), w.oldest());
        w.applied(0, new Watermark(90_000_000, 2, 0));
        w.applied(0, new Watermark(90_000_000, 2, 1));
        assertEquals(OptionalLong.of(70_000_000), w.oldest(), "channels 2 and 3, known since 70 s, sent nothing yet");
    }

    @Test
    void partitionsThisConsumerNoLongerOwnsDoNotCount() {
        AppliedWatermarks w = new AppliedWatermarks();
        w.assigned(Set.of(0, 1));
        w.applied(0, new Watermark(1_000_000, 1, 0));
        w.applied(1, new Watermark(9_000_000, 1, 0));
        w.assigned(Set.of(1)); // partition 0 moved to another consumer of the region, which reports it
        assertEquals(OptionalLong.of(9_000_000), w.oldest());
        assertEquals("", w.commitMetadata(0));
    }

    @Test
    void aWatermarkOfAnotherSourceHistoryStartsAgainInsteadOfBeingIgnored() {
        AppliedWatermarks w = new AppliedWatermarks();
        w.assigned(Set.of(0));
        w.applied(0, new Watermark(1_000, 5_000, 0, "s/1"));
        w.applied(0, new Watermark(1_000, 5_000, 1, "s/1"));
        assertEquals(OptionalLong.of(5_000), w.appliedLsn(0, 2));
        long resets = w.resets();

        // failed over to an asynchronous standby: timeline 2, LSNs back below 5,000
        w.applied(0, new Watermark(2_000, 3_000, 0, "s/2"));
        assertEquals("s/2", w.history());
        assertTrue(w.appliedLsn(0, 2).isEmpty(), "changes partition 1 has not vouched for anything of timeline 2 yet");
        assertEquals(resets + 1, w.resets(), "what was published of timeline 1 is withdrawn");
        w.applied(0, new Watermark(2_000, 3_000, 1, "s/2"));
        assertEquals(OptionalLong.of(3_000), w.appliedLsn(0, 2), "not 5,000: that was a position of timeline 1");

        // a heartbeat of timeline 1 still on its way starts again too (nothing mixes histories)
        w.applied(0, new Watermark(1_500, 5_100, 1, "s/1"));
        assertTrue(w.appliedLsn(0, 2).isEmpty());
        w.applied(0, new Watermark(2_500, 3_100, 0, "s/2"));
        w.applied(0, new Watermark(2_500, 3_100, 1, "s/2"));
        assertEquals(OptionalLong.of(3_100), w.appliedLsn(0, 2));
        assertEquals(3, w.historyChanges());
    }
}
