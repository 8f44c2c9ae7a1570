package io.lethe.stage.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * MirrorMaker 2's configuration for regions that read a Kafka cluster of their own (issue 31,
 * docs/multi-region.md), as {@code lethe topics --print mirror-maker} prints it: {@link KafkaResources}.
 */
class MirrorMakerTest {
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
    void mirrorMakerMirrorsExactlyTheTopicsTheRegionsOnTheirOwnClusterReadOneWayKeepingNames() {
        LetheConfig c = parse(YAML.replace("  eu-west:\n", "  ap.tokyo:\n    redis: redis://127.0.0.1:6381\n"
                + "    kafka: { bootstrap-servers: \"kafka-ap:9092\" }\n  eu-west:\n"));
        Map<String, String> p = KafkaResources.mirrorMakerProperties(c);
        assertEquals("primary, ap_tokyo, eu-west", p.get("clusters"));
        assertEquals("primary:9092", p.get("primary.bootstrap.servers"));
        assertEquals("kafka-eu-1:9092,kafka-eu-2:9092", p.get("eu-west.bootstrap.servers"));
        String euTopic = c.topics().invalidations("eu-west");
        assertEquals(euTopic.replace(".", "\\."), p.get("primary->eu-west.topics"), "only the region's topic, never changes or the DLQ");
        assertEquals("false", p.get("eu-west->primary.enabled"), "one way");
        assertEquals("org.apache.kafka.connect.mirror.IdentityReplicationPolicy", p.get("replication.policy.class"));
        assertEquals("read_committed", p.get("primary.consumer.isolation.level"));
        assertEquals("false", p.get("sync.group.offsets.enabled"));
        assertEquals("false", p.get("emit.checkpoints.enabled"));
        assertEquals("SCRAM-SHA-512", p.get("eu-west.sasl.mechanism"), "each cluster with its own region's settings");
        assertFalse(p.containsKey("ap_tokyo.sasl.jaas.config"), "the primary's credentials go to the primary only");
        String printed = KafkaResources.mirrorMaker(c);
        assertFalse(printed.contains("primary-secret") || printed.contains("eu-secret"), printed);
        assertTrue(printed.contains("primary->eu-west.topics = " + euTopic.replace(".", "\\\\.")),
                "a properties file reads \\\\. as the regex's \\.: " + printed);
        String allOnPrimary = YAML.replace("    kafka:\n      bootstrap-servers: kafka-eu-1:9092,kafka-eu-2:9092\n", "    kafka:\n");
        assertTrue(KafkaResources.mirrorMakerProperties(parse(allOnPrimary)).isEmpty(),
                "nothing to mirror when every region reads the primary");
    }
}
