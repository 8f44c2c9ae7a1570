package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

/**
 * Issue 30: the staleness prober asks for large fetches (it reads every record but checks a
 * sample only a window after its commit), waiting at most half its shortest window (and Kafka's default 500 ms), so it
 * never reads a sample later than that window allows; settings an operator gave win.
 */
class ProberFetchesTest {
    private static Map<String, Object> fetches(Map<String, Object> given, Duration... windows) {
        Map<String, Object> props = new HashMap<>(given);
        StalenessProber.fewerFetches(props, List.of(windows));
        return props;
    }

    @Test
    void theDefaultWindowsGiveOneMebibyteOrKafkasDefaultWait() {
        Map<String, Object> props = fetches(Map.of(), Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(60));
        assertEquals(1 << 20, props.get(ConsumerConfig.FETCH_MIN_BYTES_CONFIG));
        assertEquals(500, props.get(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG));
    }

    @Test
    void aShortWindowShortensTheWaitToHalfOfIt() {
        assertEquals(125, fetches(Map.of(), Duration.ofMillis(250), Duration.ofSeconds(10)).get(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG));
        assertEquals(1, fetches(Map.of(), Duration.ofMillis(1)).get(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), "never 0: a wait of 1 ms");
    }

    @Test
    void settingsFromKafkaPropertiesWin() {
        Map<String, Object> props = fetches(
                Map.of(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1", ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "7"),
                Duration.ofSeconds(1));
        assertEquals("1", props.get(ConsumerConfig.FETCH_MIN_BYTES_CONFIG));
        assertEquals("7", props.get(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG));
    }
}
