package io.lethe.capture.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.schemas.Watermark;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** The translator's watermarks name the source history the last check read, and start again in another one. */
class WatermarksTest {
    private static final TopicPartition P0 = new TopicPartition("dbz.public.items", 0);

    @Test
    void aWatermarkNamesTheHistoryItsLsnIsIn() {
        Coverage coverage = new Coverage();
        Watermarks watermarks = new Watermarks(coverage);
        watermarks.history("7000000000000000001/1");
        coverage.translated(P0, 0, 5_000);
        watermarks.gate().heartbeat(1_000, Map.of(P0, 1L));
        assertEquals(Optional.of(new Watermark(1_000, 5_000, -1, "7000000000000000001/1")), watermarks.release(tp -> 1L));
        watermarks.history(null); // a check that could not read it changes nothing
        watermarks.gate().heartbeat(2_000, Map.of(P0, 1L));
        assertEquals("7000000000000000001/1", watermarks.release(tp -> 1L).orElseThrow().history());
    }

    @Test
    void anotherHistoryDropsTheHeartbeatsHeldAndClaimsOnlyWhatCameAfter() {
        Coverage coverage = new Coverage();
        Watermarks watermarks = new Watermarks(coverage);
        watermarks.history("7000000000000000001/1");
        coverage.translated(P0, 0, 5_000);
        assertEquals(5_000, coverage.cover(Map.of(P0, 1L)));
        watermarks.gate().heartbeat(1_000, Map.of(P0, 1L));
        // a failover: the new timeline's LSNs are lower
        watermarks.history("7000000000000000001/2");
        assertEquals(Optional.empty(), watermarks.release(tp -> 1L), "a heartbeat read before the new history was seen");
        watermarks.gate().heartbeat(2_000, Map.of(P0, 1L));
        assertEquals(Optional.empty(), watermarks.release(tp -> 1L), "no change of the new history yet: nothing to claim");
        coverage.translated(P0, 1, 4_200);
        watermarks.gate().heartbeat(3_000, Map.of(P0, 2L));
        assertEquals(Optional.of(new Watermark(3_000, 4_200, -1, "7000000000000000001/2")), watermarks.release(tp -> 2L));
    }
}
