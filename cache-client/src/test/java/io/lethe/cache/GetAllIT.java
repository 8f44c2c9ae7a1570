package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Batch reads against a real Redis; invalidations applied with invalidate.lua, as the region consumers do. */
@ExtendWith(LetheStackExtension.class)
class GetAllIT {
    private static final Policy EVENTUAL = Policy.eventual().withTtl(Duration.ofMinutes(10), 0.1).withShadowReads(0);
    private LetheStack stack;
    private TestScope scope;
    private RedisClient client;
    private RedisCommands<String, String> redis;
    private LetheCache cache;

    @BeforeEach
    void connect(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
        this.client = RedisClient.create();
        this.redis = client.connect(RedisURI.create(stack.redisUri("us-east"))).sync();
        redis.scriptLoad(LuaScript.INVALIDATE.source());
        this.cache = LetheCache.builder(stack.redisUri("us-east")).build();
    }

    @AfterEach
    void close() {
        cache.close();
        client.shutdown();
    }

    private void invalidate(String key, String version) {
        redis.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER, new String[] {key, RedisLayout.fenceKey(key)},
                version, "60000", "12345");
    }

    @Test
    void hitsComeFromRedisAndTheMissesAreLoadedInOneCallThenFilled() {
        CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), EVENTUAL.withNegativeTtl(Duration.ofMinutes(1)));
        String p = scope.keyPrefix();
        String a = p + "product:1";
        String b = p + "product:2";
        String c = p + "product:3";
        String gone = p + "product:4";
        ns.get(a, k -> Loaded.of("a0"));
        List<Set<String>> calls = new CopyOnWriteArrayList<>();
        BulkLoader<String> loader = keys -> {
            calls.add(keys);
            Map<String, Loaded<String>> found = new HashMap<>();
            keys.stream().filter(k -> !k.equals(gone)).forEach(k -> found.put(k, Loaded.of("v" + k.substring(k.length() - 1))));
            return found;
        };

        Map<String, String> first = ns.getAll(List.of(c, a, b, gone, a), loader);
        assertEquals(List.of(c, a, b), new ArrayList<>(first.keySet()),
                "found keys, in the order asked, once each; the not-found one absent");
        assertEquals(Map.of(a, "a0", b, "v2", c, "v3"), first);
        assertEquals(List.of(Set.of(b, c, gone)), calls, "one load of exactly the misses");
        assertEquals(2, redis.exists(b, c), "both misses filled");
        assertEquals(1, redis.exists(gone), "the not-found one cached negatively");

        Map<String, String> second = ns.getAll(List.of(a, b, c, gone), loader);
        assertEquals(Map.of(a, "a0", b, "v2", c, "v3"), second);
        assertEquals(1, calls.size(), "all served from the cache: no load");
    }

    @Test
    void aKeyInvalidatedWhileTheBatchLoadsIsNotFilledTheOthersAre() throws Exception {
        CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), EVENTUAL);
        String p = scope.keyPrefix();
        String moved = p + "product:1";
        String kept = p + "product:2";
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch invalidated = new CountDownLatch(1);
        CompletableFuture<Map<String, String>> batch = ns.getAllAsync(List.of(moved, kept), keys -> {
            loading.countDown();
            assertTrue(invalidated.await(30, TimeUnit.SECONDS));
            return Map.of(moved, Loaded.of("old"), kept, Loaded.of("current"));
        });
        assertTrue(loading.await(30, TimeUnit.SECONDS));
        invalidate(moved, "100"); // a change committed while the batch was loading: its fence moves
        invalidated.countDown();

        assertEquals(Map.of(moved, "old", kept, "current"), batch.get(30, TimeUnit.SECONDS), "the caller gets what was loaded");
        assertEquals(0, redis.exists(moved), "the key whose fence moved is not filled");
        assertEquals("current", redis.hget(kept, RedisLayout.ENTRY_DATA), "the other key is");
        // and the next read loads it afresh
        assertEquals("new", ns.get(moved, k -> Loaded.of("new")));
    }

    @Test
    void aBatchJoinsASingleKeyLoadRunningInThisProcess() throws Exception {
        CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), EVENTUAL);
        String p = scope.keyPrefix();
        String shared = p + "product:1";
        String other = p + "product:2";
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> single = ns.getAsync(shared, k -> {
            loading.countDown();
            assertTrue(release.await(30, TimeUnit.SECONDS));
            return Loaded.of("single");
        });
        assertTrue(loading.await(30, TimeUnit.SECONDS));
        List<Set<String>> calls = new CopyOnWriteArrayList<>();
        CountDownLatch batchLoading = new CountDownLatch(1);
        CompletableFuture<Map<String, String>> batch = ns.getAllAsync(List.of(shared, other), keys -> {
            calls.add(keys);
            batchLoading.countDown();
            return Map.of(other, Loaded.of("batch"));
        });
        // the batch loads once it has claimed its misses: the single load is still running then
        assertTrue(batchLoading.await(30, TimeUnit.SECONDS));
        release.countDown();
        assertEquals("single", single.get(30, TimeUnit.SECONDS));
        assertEquals(Map.of(shared, "single", other, "batch"), batch.get(30, TimeUnit.SECONDS));
        assertEquals(List.of(Set.of(other)), calls, "the batch loaded only the key nobody was loading");
        assertFalse(calls.get(0).contains(shared));
    }
}
