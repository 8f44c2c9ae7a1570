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
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A reader loads the old row and stalls; meanwhile the row changes and the pipeline applies its
 * invalidation. When the reader resumes its fill is refused, and the next get sees the new row.
 */
@ExtendWith(LetheStackExtension.class)
class CacheRaceIT {

    @Test
    void aFillThatLoadedBeforeAnAppliedInvalidationIsRefused(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, name text, category int)",
                    "ALTER TABLE products REPLICA IDENTITY FULL",
                    "INSERT INTO products VALUES (1, 'old name', 7)");
            String p = scope.keyPrefix();
            f.start(f.config(f.yaml(List.of("us-east"), """
                    product: { table: public.products, keys: ["%sproduct:{id}"] }
                    category: { table: public.products, keys: ["%scategory:{category}:products"] }
                    """.formatted(p, p), "")));
            try (LetheCache cache = LetheCache.builder(stack.redisUri("us-east")).shadowReadsHeal(false)
                    .meterRegistry(new SimpleMeterRegistry()).build()) {
                CacheNamespace<String> products = cache.namespace("product", Codecs.utf8(), Policy.eventual());
                RedisCommands<String, String> redis = f.redis("us-east");

                // 1. a row-scoped key (LSN versions, which the reader cannot see)
                String key = p + "product:1";
                String stale = raceOnce(f, products, key, redis,
                        () -> f.sql("UPDATE products SET name = 'new name' WHERE id = 1"),
                        () -> redis.exists(RedisLayout.fenceKey(key)) == 1);
                assertEquals("old name", stale, "the stalled reader still returns what it loaded");
                assertEquals(0, redis.exists(key), "but its fill was refused");
                assertEquals("new name", products.get(key, k -> Loaded.of(name(stack, scope, 1))));

                // 2. a derived key whose fence already holds a newer version than the event's 0
                CacheNamespace<String> categories = cache.namespace("category", Codecs.utf8(), Policy.eventual());
                String derived = p + "category:7:products";
                redis.scriptLoad(LuaScript.INVALIDATE.source());
                redis.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER,
                        new String[] {derived, RedisLayout.fenceKey(derived)}, "999999999999", "60000", "77");
                String counterBefore = redis.hget(RedisLayout.fenceKey(derived), RedisLayout.FENCE_COUNTER);
                String staleList = raceOnce(f, categories, derived, redis,
                        () -> f.sql("UPDATE products SET name = 'newer name' WHERE id = 1"),
                        () -> !counterBefore.equals(redis.hget(RedisLayout.fenceKey(derived), RedisLayout.FENCE_COUNTER)));
                assertEquals("new name", staleList);
                assertEquals(0, redis.exists(derived), "refused although the event's version 0 is older than the fence");
                assertEquals("newer name", categories.get(derived, k -> Loaded.of(name(stack, scope, 1))));
            }
        }
    }

    /** Starts a get whose loader reads the row and stalls, changes the row, waits until Redis shows the invalidation, resumes. */
    private static String raceOnce(PipelineFixture f, CacheNamespace<String> ns, String key, RedisCommands<String, String> redis,
            SqlAction change, java.util.function.BooleanSupplier applied) throws Exception {
        CountDownLatch loaded = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        CompletableFuture<String> get = ns.getAsync(key, k -> {
            String value = name(f.stack, f.scope, 1);
            loaded.countDown();
            assertTrue(resume.await(60, TimeUnit.SECONDS));
            return Loaded.of(value);
        });
        assertTrue(loaded.await(30, TimeUnit.SECONDS));
        change.run();
        Await.until("the invalidation of " + key, Duration.ofSeconds(60), applied);
        resume.countDown();
        return get.get(30, TimeUnit.SECONDS);
    }

    private static String name(LetheStack stack, TestScope scope, int id) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
                ResultSet rs = c.createStatement().executeQuery("SELECT name FROM products WHERE id = " + id)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @FunctionalInterface
    interface SqlAction {
        void run() throws Exception;
    }
}
