package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.junit.jupiter.api.Test;

/** Every Lethe Kafka client reads topic metadata again within seconds, so added partitions are used promptly. */
class KafkaClientsTest {
    @Test
    void metadataIsReadAgainEveryTenSecondsUnlessThePropertiesSayOtherwise() {
        KafkaConfig plain = new KafkaConfig("127.0.0.1:9092", Map.of(), "lethe", null, null, null, null);
        assertEquals("10000",
                KafkaClients.common(plain, KafkaRole.CLI, "c").get(CommonClientConfigs.METADATA_MAX_AGE_CONFIG));
        KafkaConfig set = new KafkaConfig("127.0.0.1:9092", Map.of(CommonClientConfigs.METADATA_MAX_AGE_CONFIG, "30000"), "lethe", null,
                null,
                null, null);
        assertEquals("30000",
                KafkaClients.common(set, KafkaRole.CLI, "c").get(CommonClientConfigs.METADATA_MAX_AGE_CONFIG));
        assertEquals(Duration.ofSeconds(10), KafkaClients.METADATA_MAX_AGE);
    }
}
