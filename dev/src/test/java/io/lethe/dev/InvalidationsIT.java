package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.Invalidations;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** cache-client's programmatic invalidation goes through the pipeline to every region, as {@code lethe invalidate} does. */
@ExtendWith(LetheStackExtension.class)
class InvalidationsIT {
    private static final List<String> REGIONS = List.of("us-east", "eu-west");
    private static final Policy EVENTUAL = Policy.eventual().withShadowReads(0);

    @Test
    void invalidateAndInvalidatePatternReachEveryRegionAndFenceAConcurrentFill(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL");
            String yaml = f.yaml(REGIONS, "product: { table: public.products, keys: [\"" + p + "product:{id}\", \"" + p
                    + "product:slug:{slug}\"] }", "http: { port: 0 }");
            LetheConfig config = f.config(yaml);
            f.start(config);
            LetheCache east = f.own(LetheCache.builder(stack.redisUri("us-east")).build());
            LetheCache west = f.own(LetheCache.builder(stack.redisUri("eu-west")).build());
            CacheNamespace<String> eastProducts = east.namespace("product", Codecs.utf8(), EVENTUAL);
            CacheNamespace<String> westProducts = west.namespace("product", Codecs.utf8(), EVENTUAL);
            RedisCommands<String, String> eastRedis = f.redis("us-east");
            RedisCommands<String, String> westRedis = f.redis("eu-west");
            Invalidations invalidations = f.own(Invalidations.of(config));

            String key = p + "product:1";
            eastProducts.get(key, k -> Loaded.of("v1"));
            westProducts.get(key, k -> Loaded.of("v1"));
            assertEquals(2, eastRedis.exists(key) + westRedis.exists(key));

            // a reader in us-east missed and is loading when the application purges the key: its fill must lose
            eastRedis.del(key);
            CountDownLatch loading = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<String> slow = eastProducts.getAsync(key, k -> {
                loading.countDown();
                assertTrue(release.await(60, TimeUnit.SECONDS));
                return Loaded.of("v0-read-before-the-purge");
            });
            assertTrue(loading.await(30, TimeUnit.SECONDS));
            invalidations.invalidate("product", key);
            Await.until("the purge in both regions", Duration.ofSeconds(60),
                    () -> eastRedis.exists(RedisLayout.fenceKey(key)) == 1 && westRedis.exists(RedisLayout.fenceKey(key)) == 1);
            assertEquals(0, westRedis.exists(key), "eu-west's entry is purged");
            release.countDown();
            assertEquals("v0-read-before-the-purge", slow.get(30, TimeUnit.SECONDS), "the reader gets what it loaded");
            assertEquals(0, eastRedis.exists(key), "but its fill, older than the purge, is refused by the fence");

            // a pattern within the namespace: what it matches goes in both regions, what it does not match stays
            String a = p + "product:slug:a";
            String ab = p + "product:slug:ab";
            String b = p + "product:slug:b";
            for (String k : List.of(a, ab, b)) {
                eastProducts.get(k, x -> Loaded.of("s"));
                westProducts.get(k, x -> Loaded.of("s"));
            }
            invalidations.invalidatePattern("product", p + "product:slug:a*");
            Await.until("the pattern purge in both regions", Duration.ofSeconds(60),
                    () -> eastRedis.exists(a, ab) + westRedis.exists(a, ab) == 0);
            assertEquals(2, eastRedis.exists(b) + westRedis.exists(b), "a key the pattern does not match stays");

            // refused as lethe invalidate refuses them, before anything is published
            IllegalArgumentException notAKey = assertThrows(IllegalArgumentException.class,
                    () -> invalidations.invalidate("product", p + "order:1"));
            assertTrue(notAKey.getMessage().contains("is not a key of namespace product"), notAKey.getMessage());
            IllegalArgumentException everything = assertThrows(IllegalArgumentException.class,
                    () -> invalidations.invalidatePattern("product", "*"));
            assertTrue(everything.getMessage().contains("every key in Redis"), everything.getMessage());
            IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
                    () -> invalidations.invalidatePattern("product", p + "product:slug:*"));
            assertTrue(wide.getMessage().contains("matches all of namespace product"), wide.getMessage());
            IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                    () -> invalidations.invalidate("profile", key));
            assertTrue(unknown.getMessage().contains("unknown namespace 'profile'"), unknown.getMessage());
        }
    }

    /**
     * An application whose lethe.yml predates a region (eu-west added to the pipeline's file, not yet to
     * the application's): its purge must reach eu-west too. Streams routes it with the file the regions run.
     */
    @Test
    void aPurgeFromAnApplicationWhoseFileLacksARegionReachesThatRegion(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE products (id int PRIMARY KEY)", "CREATE TABLE orders (id int PRIMARY KEY)");
            String namespaces = "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }\n"
                    + "order: { table: public.orders, keys: [\"" + p + "order:{id}\"] }";
            LetheConfig running = f.config(f.yaml(java.util.Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }", "eu-west",
                    "{ redis: " + stack.redisUri("eu-west") + ", namespaces: [product] }"), namespaces, ""));
            LetheConfig older = f.config(f.yaml(List.of("us-east"), namespaces, ""));
            f.start(running);
            RedisCommands<String, String> westRedis = f.redis("eu-west");
            String key = p + "product:7";
            westRedis.hset(key, java.util.Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{}"));
            Invalidations invalidations = f.own(Invalidations.of(older));
            invalidations.invalidate("product", key);
            Await.until("the purge of an application whose file lacks eu-west removes " + key + " there", Duration.ofSeconds(60),
                    () -> westRedis.exists(key) == 0);
        }
    }
}
