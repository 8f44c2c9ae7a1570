package io.lethe.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lethe.yml every test, scenario, demo and benchmark writes: the sections in their order, settings added where they belong. */
class LetheYmlTest {
    /** Addresses only: no server is started. */
    private static final LetheStack STACK = new LetheStack() {
        @Override
        public PostgresEndpoint postgres() {
            return new PostgresEndpoint("127.0.0.1", 5432, "postgres", "secret");
        }

        @Override
        public void createDatabase(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String kafkaBootstrapServers() {
            return "127.0.0.1:9092";
        }

        @Override
        public List<String> regions() {
            return List.of("us-east", "eu-west");
        }

        @Override
        public String redisUri(String region) {
            return "redis://127.0.0.1:" + (region.equals("us-east") ? 6379 : 6380);
        }

        @Override
        public void pauseRedis(String region) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void resumeRedis(String region) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String redisClusterUri() {
            return "redis://127.0.0.1:7000";
        }

        @Override
        public PostgresEndpoint replica(Duration applyDelay) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Map<String, Duration> startTimes() {
            return Map.of();
        }

        @Override
        public void close() {
        }
    };

    @Test
    void writesEverySectionWithTheSettingsAddedWhereTheyBelong() {
        String yaml = LetheYml.on(STACK, "shop").header("Written by a test.").slot("lethe_t1").heartbeat("1s").source("mode: capture")
                .topicPrefix("t1").partitions(6).kafka("replication-factor: 1").groups("g1").streams("processing-guarantee: at_least_once")
                .apply("prober: { sample-every: 20 }").region("us-east").region("eu-west", "{ redis: redis://x:1, namespaces: [product] }")
                .namespaces("product:\n  table: public.products\n  keys: [\"product:{id}\"]").extra("http: { port: 0 }").build();
        assertEquals("""
                # Written by a test.
                source:
                  jdbc-url: jdbc:postgresql://127.0.0.1:5432/shop
                  user: postgres
                  slot: lethe_t1
                  publication: lethe_t1
                  heartbeat-interval: 1s
                  mode: capture
                kafka:
                  bootstrap-servers: 127.0.0.1:9092
                  topic-prefix: t1
                  partitions: 6
                  replication-factor: 1
                streams:
                  application-id: g1-streams
                  processing-guarantee: at_least_once
                apply:
                  group-prefix: g1-region-
                  prober: { sample-every: 20 }
                regions:
                  us-east: { redis: redis://127.0.0.1:6379 }
                  eu-west: { redis: redis://x:1, namespaces: [product] }
                namespaces:
                  product:
                    table: public.products
                    keys: ["product:{id}"]
                http: { port: 0 }
                """, yaml);
    }

    @Test
    void theGroupsFollowTheTopicPrefixAndThePublicationTheSlotUnlessNamed() {
        String yaml = LetheYml.on(STACK, "shop").slot("s").publication("p").topicPrefix("t").build();
        assertTrue(yaml.contains("  slot: s\n  publication: p\n"), yaml);
        assertTrue(yaml.contains("  application-id: t-streams\n") && yaml.contains("  group-prefix: t-region-\n"), yaml);
        assertTrue(yaml.contains("  partitions: 3\n"), yaml);
    }

    @Test
    void aConfigurationWithoutSlotOrTopicPrefixIsRefused() {
        assertThrows(IllegalStateException.class, () -> LetheYml.on(STACK, "shop").topicPrefix("t").build());
        assertThrows(IllegalStateException.class, () -> LetheYml.on(STACK, "shop").slot("s").build());
    }
}
