package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Readers that load from a read replica applying WAL 3 s late refill the old value right after
 * the invalidation. The region with the replica gate removes it once the replica has replayed
 * past the change; the region without the gate keeps it.
 */
@ExtendWith(LetheStackExtension.class)
class ReplicaGateIT {
    private static final Duration APPLY_DELAY = Duration.ofSeconds(3);

    @Test
    void theGateRemovesWhatALaggingReplicaRefilled(LetheStack stack, TestScope scope) throws Exception {
        PostgresEndpoint replica = stack.replica(APPLY_DELAY);
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, name text)", "INSERT INTO products VALUES (1, 'old')");
            String p = scope.keyPrefix();
            String yaml = f.yaml(List.of(), "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }",
                    "apply: { replica-poll-interval: 100ms }")
                    .replace("regions:\n", "regions:\n  us-east: { redis: " + stack.redisUri("us-east") + ", replica: \""
                            + replica.jdbcUrl(scope.database()) + "\" }\n  eu-west: { redis: " + stack.redisUri("eu-west") + " }\n");
            f.start(f.config(yaml));
            awaitReplicated(replica, scope, "old");

            String key = p + "product:1";
            f.sql("UPDATE products SET name = 'new' WHERE id = 1");
            RedisCommands<String, String> east = f.redis("us-east");
            RedisCommands<String, String> west = f.redis("eu-west");
            Await.until("the invalidation in both regions", Duration.ofSeconds(60),
                    () -> east.exists(RedisLayout.fenceKey(key)) == 1 && west.exists(RedisLayout.fenceKey(key)) == 1);

            // readers in both regions miss and refill from the replica, which has not replayed the change yet
            for (String region : List.of("us-east", "eu-west")) {
                try (LetheCache cache = LetheCache.builder(stack.redisUri(region)).shadowReadsHeal(false).build()) {
                    CacheNamespace<String> products = cache.namespace("product", Codecs.utf8(), Policy.eventual());
                    assertEquals("old", products.get(key, k -> Loaded.of(name(replica, scope))),
                            region + ": the replica still served the old row (its apply delay is " + APPLY_DELAY + ")");
                }
            }
            assertEquals("old", east.hget(key, RedisLayout.ENTRY_DATA), "the stale refill was accepted: it came after the invalidation");
            assertEquals("old", west.hget(key, RedisLayout.ENTRY_DATA));

            long t0 = System.nanoTime();
            Await.until("the gate re-applies the invalidation in us-east", APPLY_DELAY.plusSeconds(15),
                    () -> east.exists(key) == 0);
            Duration gone = Duration.ofNanos(System.nanoTime() - t0);
            assertEquals("old", west.hget(key, RedisLayout.ENTRY_DATA),
                    "without the gate the stale entry stays: the gate is what removed it in us-east");
            assertTrue(gone.compareTo(APPLY_DELAY.plusSeconds(15)) < 0, "removed after " + gone);
        }
    }

    /**
     * A "replica" that is not a standby (here the primary itself) says nothing of what a standby
     * replayed: the gate must refuse it, visibly, and keep the batch held, never fall back to
     * the server's own WAL position.
     */
    @Test
    void theGateRefusesAServerThatIsNotAStandby(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, name text)", "INSERT INTO products VALUES (1, 'old')");
            String p = scope.keyPrefix();
            String yaml = f.yaml(List.of(), "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }",
                    "apply: { replica-poll-interval: 100ms }")
                    .replace("regions:\n", "regions:\n  us-east: { redis: " + stack.redisUri("us-east") + ", replica: \""
                            + stack.postgres().jdbcUrl(scope.database()) + "\" }\n");
            var pipeline = f.start(f.config(yaml));
            String key = p + "product:1";
            f.sql("UPDATE products SET name = 'new' WHERE id = 1");
            RedisCommands<String, String> east = f.redis("us-east");
            Await.until("the invalidation in us-east", Duration.ofSeconds(60), () -> east.exists(RedisLayout.fenceKey(key)) == 1);
            Await.until("the gate re-applies or refuses", Duration.ofSeconds(60),
                    () -> reapplied(f) > 0 || refused(f) == 1);
            assertEquals(0.0, reapplied(f), "the gate re-applied the batch after reading the WAL position of a server that is not "
                    + "a standby (the primary itself)");
            assertEquals(1.0, refused(f), "the refusal shows in lethe.region.replica.refused");
            assertEquals(Boolean.FALSE, pipeline.health().get("region:us-east"), "and in /health: " + pipeline.health());
        }
    }

    private static double reapplied(PipelineFixture f) {
        var c = f.registry.find("lethe.region.gate.reapplied").tag("region", "us-east").counter();
        return c == null ? 0 : c.count();
    }

    private static double refused(PipelineFixture f) {
        var g = f.registry.find("lethe.region.replica.refused").tag("region", "us-east").gauge();
        return g == null ? 0 : g.value();
    }

    private static String name(PostgresEndpoint pg, TestScope scope) throws Exception {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
                ResultSet rs = c.createStatement().executeQuery("SELECT name FROM products WHERE id = 1")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static void awaitReplicated(PostgresEndpoint replica, TestScope scope, String expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                if (expected.equals(name(replica, scope))) {
                    return;
                }
            } catch (java.sql.SQLException notYet) {
                // the database or table has not been replayed yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the replica never showed the table");
            }
            Thread.sleep(100);
        }
    }
}
