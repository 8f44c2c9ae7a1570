package io.lethe.region.lag;

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
    void partitionsThisConsumerNoLongerOwnsDoNotCount() {
        AppliedWatermarks w = new AppliedWatermarks();
        w.assigned(Set.of(0, 1));
        w.applied(0, new Watermark(1_000_000, 1, 0));
        w.applied(1, new Watermark(9_000_000, 1, 0));
        w.assigned(Set.of(1)); // partition 0 moved to another consumer of the region, which reports it
        assertEquals(OptionalLong.of(9_000_000), w.oldest());
        assertEquals("", w.commitMetadata(0));
    }
}
