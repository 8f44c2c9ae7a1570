package io.lethe.capture.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** A heartbeat becomes a watermark only once every change written before it was published. */
class WatermarkGateTest {
    private static final TopicPartition P0 = new TopicPartition("dbz.public.items", 0);
    private static final TopicPartition P1 = new TopicPartition("dbz.public.items", 1);

    @Test
    void aHeartbeatWaitsForEveryPartitionToReachWhereItWasWritten() {
        WatermarkGate gate = new WatermarkGate();
        Map<TopicPartition, Long> published = new HashMap<>(Map.of(P0, 10L, P1, 3L));
        gate.heartbeat(1_000, Map.of(P0, 10L, P1, 5L));
        gate.heartbeat(2_000, Map.of(P0, 12L, P1, 5L));
        assertEquals(Optional.empty(), gate.release(published::get), "P1 has two changes before the first heartbeat unpublished");
        published.put(P1, 5L);
        assertEquals(1_000, gate.release(published::get).orElseThrow().commitMicros());
        published.put(P0, 12L);
        assertEquals(Map.of(P0, 12L, P1, 5L), gate.release(published::get).orElseThrow().ends());
        assertEquals(0, gate.pending());
    }
}
