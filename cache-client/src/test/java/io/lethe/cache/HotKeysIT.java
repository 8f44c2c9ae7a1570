package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hot keys on a real Redis Cluster (where the tracked near cache is not available): a celebrity
 * key's reads are served from this process's copy, for at most the policy's bound after an
 * invalidation; and XFetch's early refresh, on a real Redis.
 */
@ExtendWith(LetheStackExtension.class)
class HotKeysIT {
    private static final Duration COPIES = Duration.ofMillis(800);
    private LetheStack stack;
    private TestScope scope;
    private RedisClusterClient client;
    private StatefulRedisClusterConnection<String, String> connection;
    private RedisAdvancedClusterCommands<String, String> redis;
    private LetheCache cache;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void connect(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
        client = RedisClusterClient.create(RedisURI.create(stack.redisClusterUri()));
        connection = client.connect();
        redis = connection.sync();
        redis.scriptLoad(LuaScript.INVALIDATE.source());
        cache = LetheCache.builder(stack.redisClusterUri()).cluster(true).meterRegistry(registry).build();
    }

    @AfterEach
    void close() {
        cache.close();
        connection.close();
        client.shutdown();
    }

    /** What the region consumer does for one key. */
    private void invalidate(String key, String version) {
        redis.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER, new String[] {key, RedisLayout.fenceKey(key)},
                version, "60000", "12345");
    }

    private double count(String name) {
        return registry.find(name).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    @Test
    void aCelebrityKeyIsServedFromItsCopyOnAClusterAndAnInvalidationReachesReadersWithinTheBound() throws Exception {
        CacheNamespace<String> ns = cache.namespace("profile", Codecs.utf8(),
                Policy.eventual().withShadowReads(0).withHotKeyCopies(COPIES));
        String celebrity = scope.key("profile:celebrity");
        AtomicInteger loads = new AtomicInteger();
        String[] row = {"v1"};
        Loader<String> loader = k -> {
            loads.incrementAndGet();
            return Loaded.of(row[0], 1);
        };
        for (int i = 0; i < 2_000; i++) { // 1 read in 4 is the celebrity's: hot within the first window
            ns.get(i % 4 == 0 ? celebrity : scope.key("profile:" + i), loader);
        }
        assertEquals(List.of(celebrity), ns.hotKeys(10).stream().map(HotKey::key).toList(), "only the celebrity is hot");
        assertTrue(count("lethe.cache.hot.hits") >= 350,
                "once hot (its 100th read), the celebrity's reads came from its copy: " + count("lethe.cache.hot.hits"));
        assertEquals(1.0, registry.get("lethe.cache.hot.keys").gauge().value());

        // the row changes: the pipeline invalidates the key in Redis; the copy is not tracked, so
        // readers see the new value within the policy's bound, not at once
        row[0] = "v2";
        long invalidated = System.nanoTime();
        invalidate(celebrity, "2");
        String seen;
        do {
            seen = ns.get(celebrity, loader);
        } while (!"v2".equals(seen) && System.nanoTime() - invalidated < COPIES.multipliedBy(5).toNanos());
        long tookMillis = (System.nanoTime() - invalidated) / 1_000_000;
        assertEquals("v2", seen, "the copy outlived its bound");
        assertTrue(tookMillis <= COPIES.toMillis() + 300, "the old value was served for " + tookMillis + " ms, the bound is " + COPIES);

        // a key read once is never copied: its second read goes to Redis (a hit there, no copy)
        double hotHits = count("lethe.cache.hot.hits");
        String cold = scope.key("profile:cold");
        ns.get(cold, loader);
        ns.get(cold, loader);
        assertEquals(hotHits, count("lethe.cache.hot.hits"), "a cold key is never served from a copy");
    }

    @Test
    void aTokenReadNeverTakesAHotKeysCopy() {
        try (LetheCache tokens = LetheCache.builder(stack.redisClusterUri()).cluster(true).readYourWrites(scope.key("group")).build()) {
            tokenReads(tokens.namespace("profile", Codecs.utf8(),
                    Policy.eventual().withShadowReads(0).withHotKeyCopies(Duration.ofMinutes(5))));
        }
    }

    private void tokenReads(CacheNamespace<String> ns) {
        String key = scope.key("profile:token");
        for (int i = 0; i < 200; i++) {
            ns.get(key, k -> Loaded.of("old", 1));
        }
        assertTrue(ns.hotKeys(1).size() == 1, "hot after 200 reads of nothing else");
        invalidate(key, "2"); // the copy still says "old" for minutes
        // no watermark in this region: a token read goes to the primary, never to the copy
        assertEquals("new", ns.get(key, k -> Loaded.of("new", 2), 1000));
        assertEquals("old", ns.get(key, k -> Loaded.of("new", 2)), "a plain read may take the copy (eventual, within its bound)");
    }

    @Test
    void earlyRefreshReloadsAHotEntryBeforeItsSoftExpiry() {
        try (LetheCache standalone = LetheCache.builder(stack.redisUri("us-east")).meterRegistry(registry).build()) {
            String key = scope.key("report:daily");
            AtomicInteger loads = new AtomicInteger();
            Loader<String> slow = k -> {
                Thread.sleep(30);
                return Loaded.of("report " + loads.incrementAndGet(), loads.get());
            };
            // off: hits never refresh before the soft expiry (decided on the hit itself, nothing to wait for)
            CacheNamespace<String> off = standalone.namespace("report", Codecs.utf8(),
                    Policy.eventual().withShadowReads(0).withStaleWhileRevalidate(Duration.ofMinutes(5)));
            assertEquals("report 1", off.get(key, slow));
            for (int i = 0; i < 50; i++) {
                assertEquals("report 1", off.get(key, slow));
            }
            assertEquals(0.0, count("lethe.cache.early.refreshes"));

            // beta so large that the 30 ms load time outweighs the 5 minutes left: the first hit refreshes
            CacheNamespace<String> on = standalone.namespace("report", Codecs.utf8(),
                    Policy.eventual().withShadowReads(0).withStaleWhileRevalidate(Duration.ofMinutes(5)).withEarlyRefresh(1e6));
            String other = scope.key("report:weekly");
            assertEquals("report 2", on.get(other, slow)); // its load gives the namespace a mean load time
            assertEquals("report 2", on.get(other, slow), "the hit is served at once, the refresh runs behind it");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            String seen;
            do {
                seen = on.get(other, slow);
            } while ("report 2".equals(seen) && System.nanoTime() < deadline);
            assertTrue(seen.startsWith("report "), seen);
            assertTrue(Integer.parseInt(seen.substring(7)) > 2, "the early refresh's fill replaced the entry: " + seen);
            assertTrue(count("lethe.cache.early.refreshes") >= 1);
        }
    }
}
