package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Headers;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LetheStackExtension.class)
class PatternAndClusterIT {

    @Test
    void aRealClusterHasEveryKeyInvalidatedWithItsFenceInTheSameSlot(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope);
                ClusterRedis cluster = new ClusterRedis(stack.redisClusterUri())) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: \"" + stack.redisClusterUri() + "\", topology: cluster }"),
                    // keys of every shape under the scope's prefix, each rendered by a template of its namespace (regions refuse
                    // keys no template renders; key format 2 escapes braces in values, so a hash tag is a template's literal)
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }\n"
                            + "customer: { table: public.customers, keys: [\"" + p + "customer:{{{c}}}:orders\"] }\n"
                            + "odd: { table: public.odds, keys: [\"" + p + "odd}}{id}\", \"" + p + "{{}}empty-{id}}}\"] }\n"
                            + "any: { table: public.anything, keys: [\"" + p + "{id}\"] }",
                    ""));
            Map<String, String> namespaceOf = new LinkedHashMap<>();
            RegionFixture.keys(p + "product:", 300).forEach(k -> namespaceOf.put(k, "product"));
            for (int i = 0; i < 30; i++) {
                namespaceOf.put(p + "customer:{c" + i + "}:orders", "customer");
            }
            namespaceOf.put(p + "odd}key", "odd");
            namespaceOf.put(p + "{}empty-tag}", "odd");
            List<String> keys = new ArrayList<>(namespaceOf.keySet());
            keys.forEach(k -> cluster.redis.hset(k, Map.of("v", "1", "d", "old")));
            Set<Long> slots = new HashSet<>();
            keys.forEach(k -> slots.add(cluster.redis.clusterKeyslot(k)));
            assertTrue(slots.size() > 100, "keys spread over many slots: " + slots.size());
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(),
                    Clock.systemUTC())) {
                region.start();
                keys.forEach(k -> f.send(config.topics().invalidations("us-east"), RegionFixture.key(namespaceOf.get(k), k, "50")));
                f.flush();
                RegionFixture.await("every fence", Duration.ofSeconds(60),
                        () -> keys.stream().allMatch(k -> cluster.redis.exists(RedisLayout.fenceKey(k)) == 1));
                for (String k : keys) {
                    assertEquals(0, cluster.redis.exists(k), k);
                    assertEquals(cluster.redis.clusterKeyslot(k), cluster.redis.clusterKeyslot(RedisLayout.fenceKey(k)),
                            "fence slot of " + k);
                }

                // a pattern is scanned on every master
                List<String> search = RegionFixture.keys(p + "search:products:", 100);
                List<String> other = RegionFixture.keys(p + "search:orders:", 100);
                search.forEach(k -> cluster.redis.hset(k, Map.of("v", "0", "d", "results")));
                other.forEach(k -> cluster.redis.hset(k, Map.of("v", "0", "d", "results")));
                f.send(config.topics().invalidations("us-east"),
                        RegionFixture.pattern("any", Scope.PATTERN, p + "search:products:*", "60", Op.UPDATE));
                f.flush();
                RegionFixture.await("the pattern's fences", Duration.ofSeconds(60),
                        () -> search.stream().allMatch(k -> cluster.redis.exists(RedisLayout.fenceKey(k)) == 1));
                assertTrue(search.stream().allMatch(k -> cluster.redis.exists(k) == 0), "every matching key is gone");
                assertTrue(other.stream().allMatch(k -> cluster.redis.exists(k) == 1), "no other key is touched");
            }
        }
    }

    @Test
    void patternsDeleteExactlyTheirKeysAndMatchAllIsRefusedToTheDlq(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }"), """
                    product: { table: public.products, keys: ["%sproduct:{id}"], patterns: ["%ssearch:1*"] }
                    wide: { table: public.widgets, keys: ["%swidget:{id}"], allow-namespace-wide: true }
                    """.formatted(p, p, p), ""));
            RedisCommands<String, String> redis = f.redis("us-east");
            List<String> products = RegionFixture.keys(p + "product:", 50);
            List<String> widgets = RegionFixture.keys(p + "widget:", 50);
            List<String> search = RegionFixture.keys(p + "search:", 50);
            products.forEach(k -> redis.hset(k, Map.of("v", "1", "d", "x")));
            widgets.forEach(k -> redis.set(k, "legacy"));
            search.forEach(k -> redis.hset(k, Map.of("v", "0", "d", "x")));
            String topic = config.topics().invalidations("us-east");
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(),
                    Clock.systemUTC())) {
                region.start();
                f.send(topic, RegionFixture.pattern("product", Scope.PATTERN, "*", "5", Op.MANUAL));
                f.send(topic, RegionFixture.pattern("product", Scope.PATTERN, p + "product:*", "5", Op.MANUAL));
                f.send(topic, RegionFixture.pattern("wide", Scope.PATTERN, p + "widget:*", "5", Op.MANUAL));
                f.send(topic, RegionFixture.pattern("product", Scope.PATTERN, p + "search:1*", "5", Op.UPDATE));
                // a key of the namespace (regions refuse keys no template renders: foreign-key)
                String sentinel = p + "product:sentinel";
                f.send(topic, RegionFixture.key("product", sentinel, "5"));
                f.flush();
                RegionFixture.await("the sentinel's fence", Duration.ofSeconds(60),
                        () -> redis.exists(RedisLayout.fenceKey(sentinel)) == 1);
                RegionFixture.await("the widget pattern", Duration.ofSeconds(60),
                        () -> widgets.stream().allMatch(k -> redis.exists(k) == 0));

                assertTrue(products.stream().allMatch(k -> redis.exists(k) == 1), "the refused patterns deleted nothing");
                List<String> searchGone = search.stream().filter(k -> redis.exists(k) == 0).toList();
                List<String> expected = search.stream().filter(k -> k.substring(p.length() + "search:".length()).startsWith("1")).toList();
                assertEquals(expected, searchGone, "the pattern deleted exactly its keys");

                List<Map<String, String>> dead = f.deadLetters(config.topics().dlq(), 2, Duration.ofSeconds(30));
                assertEquals(2, dead.size());
                for (Map<String, String> h : dead) {
                    assertEquals("region:us-east", h.get(Headers.DLQ_STAGE));
                    assertEquals(topic, h.get(Headers.DLQ_SOURCE_TOPIC));
                }
                assertEquals(Set.of("match-all-pattern", "namespace-wide-pattern"),
                        dead.stream().map(h -> h.get(Headers.DLQ_REASON)).collect(Collectors.toSet()), dead.toString());
                assertTrue(dead.stream().filter(h -> h.get(Headers.DLQ_REASON).equals("namespace-wide-pattern"))
                        .allMatch(h -> h.get(Headers.DLQ_ERROR).contains("allow-namespace-wide")), dead.toString());

                // TRUNCATE and reset come as scope namespace: always applied
                f.send(topic, RegionFixture.pattern("product", Scope.NAMESPACE, p + "product:*", "5", Op.TRUNCATE));
                f.flush();
                RegionFixture.await("the namespace is emptied", Duration.ofSeconds(60),
                        () -> products.stream().allMatch(k -> redis.exists(k) == 0));
            }
        }
    }

    /** A synchronous connection to the stack's Redis Cluster. */
    private static final class ClusterRedis implements AutoCloseable {
        final RedisClusterClient client;
        final StatefulRedisClusterConnection<String, String> connection;
        final RedisAdvancedClusterCommands<String, String> redis;

        ClusterRedis(String uri) {
            client = RedisClusterClient.create(uri);
            connection = client.connect();
            redis = connection.sync();
        }

        @Override
        public void close() {
            connection.close();
            client.shutdown();
        }
    }
}
