package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A region may read a Kafka cluster of its own, mirrored from the primary by MirrorMaker 2
 * (issue 31, docs/multi-region.md): its clients go there with its own settings only, and never
 * carry the primary's credentials; what only the primary knows is read there.
 */
class RegionClusterTest {
    private static final String YAML = """
            source:
              jdbc-url: jdbc:postgresql://127.0.0.1:5432/shop
              user: lethe
            kafka:
              bootstrap-servers: primary:9092
              properties: { security.protocol: SASL_SSL, sasl.mechanism: PLAIN, sasl.jaas.config: "${PRIMARY_JAAS}" }
            regions:
              us-east: { redis: redis://127.0.0.1:6379 }
              eu-west:
                redis: redis://127.0.0.1:6380
                kafka:
                  bootstrap-servers: kafka-eu-1:9092,kafka-eu-2:9092
                  user: lethe-eu
                  password: ${EU_PASSWORD}
                  properties: { security.protocol: SASL_SSL, sasl.mechanism: SCRAM-SHA-512 }
            namespaces:
              product: { table: public.products, keys: ["product:{id}"] }
            """;
    private static final Map<String, String> ENV = Map.of("PRIMARY_JAAS", "primary-secret", "EU_PASSWORD", "eu-secret");

    private static LetheConfig parse(String yaml) {
        return ConfigLoader.parse("lethe.yml", yaml, ENV::get);
    }

    @Test
    void aRegionWithItsOwnClusterTalksToItWithItsOwnSettingsOnly() {
        LetheConfig c = parse(YAML);
        KafkaRole eu = KafkaRole.region("eu-west");
        Map<String, Object> props = KafkaClients.common(c.kafka(), eu, "x");
        assertEquals("kafka-eu-1:9092,kafka-eu-2:9092", props.get("bootstrap.servers"));
        assertEquals("SCRAM-SHA-512", props.get("sasl.mechanism"));
        assertTrue(props.get("sasl.jaas.config").toString().contains("username=\"lethe-eu\""));
        assertFalse(props.values().stream().anyMatch(v -> v.toString().contains("primary-secret")),
                "the primary's credentials are never sent to the region's cluster: " + props.keySet());
        assertTrue(c.kafka().ownCluster(eu));
        assertFalse(c.kafka().toString().contains("eu-secret"), "the region's password is not in toString");
    }

    @Test
    void whatOnlyThePrimaryKnowsIsReadThereWithThePrimarysSettings() {
        LetheConfig c = parse(YAML);
        Map<String, Object> props = KafkaClients.primary(c.kafka(), KafkaRole.region("eu-west"), "x");
        assertEquals("primary:9092", props.get("bootstrap.servers"));
        assertEquals("primary-secret", props.get("sasl.jaas.config"));
    }

    @Test
    void aRegionWithoutOneReadsThePrimary() {
        LetheConfig c = parse(YAML);
        KafkaRole us = KafkaRole.region("us-east");
        assertEquals("primary:9092", KafkaClients.common(c.kafka(), us, "x").get("bootstrap.servers"));
        assertEquals("primary:9092", KafkaClients.primary(c.kafka(), us, "x").get("bootstrap.servers"));
        assertFalse(c.kafka().ownCluster(us));
    }

    @Test
    void aBadAddressOrAClusterForAnotherRoleIsRefusedWithItsPath() {
        ConfigException bad = assertThrows(ConfigException.class, () -> parse(YAML.replace("kafka-eu-1:9092,kafka-eu-2:9092", "kafka-eu")));
        Map<String, String> byPath = new HashMap<>();
        bad.errors().forEach(e -> byPath.put(e.path(), e.problem()));
        assertTrue(byPath.getOrDefault("regions.eu-west.kafka.bootstrap-servers", "").contains("expected host:port"), byPath.toString());
        ConfigException role = assertThrows(ConfigException.class, () -> parse(YAML.replace("""
                  properties: { security.protocol: SASL_SSL, sasl.mechanism: PLAIN, sasl.jaas.config: "${PRIMARY_JAAS}" }
                """, """
                  properties: { security.protocol: SASL_SSL, sasl.mechanism: PLAIN, sasl.jaas.config: "${PRIMARY_JAAS}" }
                  roles: { streams: { bootstrap-servers: "other:9092" } }
                """)));
        assertTrue(role.getMessage().contains("kafka.roles.streams.bootstrap-servers"), role.getMessage());
    }
}
