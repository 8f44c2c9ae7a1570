package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A reader declared with what its namespace's entries hold ({@code NamespaceConfig.readerHolds()}) against the
 * region's record of it ({@code lethe:holds:<namespace>}, written by the region consumer): a fill is refused while
 * they differ, on every path that writes an entry. Each test has a namespace of its own (the record is per namespace).
 */
@ExtendWith(LetheStackExtension.class)
class DeclaredHoldsIT {
    private static final Policy EVENTUAL = Policy.eventual().withTtl(Duration.ofMinutes(10), 0.1).withShadowReads(0);
    /** What a namespace of {@code version: lsn} holds, and the same namespace moved to {@code version: column:ver}. */
    private static final List<String> LSN = List.of("table:public.products", "version:lsn", "mode:DELETE");
    private static final List<String> COLUMN = List.of("table:public.products", "version:column:ver", "mode:DELETE");

    private LetheStack stack;
    private TestScope scope;
    private RedisClient client;
    private RedisCommands<String, String> redis;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<LetheCache> caches = new ArrayList<>();

    @BeforeEach
    void connect(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
        this.client = RedisClient.create();
        this.redis = client.connect(RedisURI.create(stack.redisUri("us-east"))).sync();
    }

    @AfterEach
    void close() {
        caches.forEach(LetheCache::close);
        client.shutdown();
    }

    private LetheCache cache(MutableClock clock) {
        LetheCache.Builder builder = LetheCache.builder(stack.redisUri("us-east")).meterRegistry(registry);
        LetheCache cache = (clock == null ? builder : builder.clock(clock)).build();
        caches.add(cache);
        return cache;
    }

    private double fills(String namespace, String result) {
        var counter = registry.find(CacheMetrics.FILLS).tags("namespace", namespace, "result", result).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aFillIsRefusedWhileTheRegionRecordsOtherHoldsAndAcceptedWhenTheyAgreeOrNoneAreRecorded() {
        String namespace = scope.key("moved");
        redis.set(RedisLayout.holdsKey(namespace), RedisLayout.holds(COLUMN)); // the region runs version: column:ver
        CacheNamespace<String> old = cache(null).namespace(namespace, Codecs.utf8(), EVENTUAL, LSN);
        String key = scope.key("product:1");
        AtomicInteger loads = new AtomicInteger();
        assertEquals("at lsn", old.get(key, k -> {
            loads.incrementAndGet();
            return Loaded.of("at lsn", 1099511627776L);
        }), "the caller still gets what was loaded");
        assertEquals(0, redis.exists(key), "an entry at an LSN would never be reached by the column's versions: not filled");
        assertEquals(1.0, fills(namespace, "refused-holds"));
        assertEquals(0.0, fills(namespace, "accepted"));
        old.get(key, k -> {
            loads.incrementAndGet();
            return Loaded.of("at lsn", 1099511627776L);
        });
        assertEquals(2, loads.get(), "nothing cached: every read loads");

        CacheNamespace<String> current = cache(null).namespace(namespace, Codecs.utf8(), EVENTUAL, COLUMN);
        assertEquals("at ver 2", current.get(key, k -> Loaded.of("at ver 2", 2)));
        assertEquals("2", redis.hget(key, RedisLayout.ENTRY_VERSION), "a reader on the region's configuration fills");
        assertEquals(1.0, fills(namespace, "accepted"));

        String unrecorded = scope.key("unrecorded");
        String other = scope.key("product:2");
        CacheNamespace<String> first = cache(null).namespace(unrecorded, Codecs.utf8(), EVENTUAL, LSN);
        assertEquals("v", first.get(other, k -> Loaded.of("v", 7)));
        assertEquals("7", redis.hget(other, RedisLayout.ENTRY_VERSION), "no record (a region of an older version): filled");
    }

    /**
     * An entry present under holds other than the reader's is not served: a reader on the new file before the region
     * moved would decode another table's row or another payload's shape (an upsert written by the old rules), one on
     * the old file after it an entry of the new rules. Read as a miss: loaded, and its fill refused.
     */
    @Test
    void anEntryUnderOtherHoldsIsNotServed() {
        String namespace = scope.key("hits");
        String key = scope.key("product:4");
        redis.hset(key, java.util.Map.of(RedisLayout.ENTRY_VERSION, "3", RedisLayout.ENTRY_DATA, "the old rules' payload"));
        redis.set(RedisLayout.holdsKey(namespace), RedisLayout.holds(LSN));
        CacheNamespace<String> reader = cache(null).namespace(namespace, Codecs.utf8(), EVENTUAL, COLUMN);
        assertEquals("loaded", reader.get(key, k -> Loaded.of("loaded", 4)), "not the entry of the other holds");
        assertEquals(List.of("loaded"), reader.getAll(List.of(key), keys -> java.util.Map.of(key, Loaded.of("loaded", 4))).values()
                .stream().toList(), "nor through getAll");
        assertEquals("3", redis.hget(key, RedisLayout.ENTRY_VERSION), "and nothing filled over it");

        redis.set(RedisLayout.holdsKey(namespace), RedisLayout.holds(COLUMN)); // the region moved: its entries are the reader's
        assertEquals("the old rules' payload", reader.get(key, k -> Loaded.of("loaded", 4)), "a hit once the holds agree");
    }

    /**
     * While the region records other holds, every fill is refused: a read does not wait for another process's fill under
     * the fill lock (it never comes), it loads at once.
     */
    @Test
    void aReadUnderOtherHoldsDoesNotWaitForAFillLockHeldElsewhere() {
        String namespace = scope.key("locked");
        String key = scope.key("product:5");
        redis.set(RedisLayout.holdsKey(namespace), RedisLayout.holds(LSN));
        redis.setex(CacheRedis.lockKey(key), 60, "elsewhere"); // another process took the fill lock for a minute
        CacheNamespace<String> reader = cache(null).namespace(namespace, Codecs.utf8(),
                EVENTUAL.withFillLock(Duration.ofSeconds(60)), COLUMN);
        assertEquals("loaded", org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> reader.get(key, k -> Loaded.of("loaded", 4))), "loaded at once, not after the lock's lease");
    }

    @Test
    void aReaderThatDeclaresNothingIsNotChecked() {
        String namespace = scope.key("undeclared");
        redis.set(RedisLayout.holdsKey(namespace), RedisLayout.holds(COLUMN));
        CacheNamespace<String> ns = cache(null).namespace(namespace, Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:3");
        ns.get(key, k -> Loaded.of("v", 3));
        assertEquals("3", redis.hget(key, RedisLayout.ENTRY_VERSION));
    }

    @Test
    void aFillIsUndoneWhenTheRegionRecordsOtherHoldsBeforeItsConfirmation() throws Exception {
        String namespace = scope.key("moving");
        redis.set(RedisLayout.holdsKey(namespace), RedisLayout.holds(LSN));
        CacheNamespace<String> old = cache(null).namespace(namespace, Codecs.utf8(), EVENTUAL, LSN);
        String key = scope.key("product:4");
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> get = old.getAsync(key, k -> {
            loading.countDown();
            release.await();
            return Loaded.of("at lsn", 1099511627776L);
        });
        assertTrue(loading.await(10, TimeUnit.SECONDS));
        // the region moved meanwhile: its holds write is seen, its epoch increment not (yet, or on another node)
        redis.set(RedisLayout.holdsKey(namespace), RedisLayout.holds(COLUMN));
        release.countDown();
        assertEquals("at lsn", get.get(10, TimeUnit.SECONDS));
        assertEquals(0, redis.exists(key), "the miss read the old holds, the confirmation the new: undone");
        assertEquals(1.0, fills(namespace, "refused-holds"));
        assertEquals(0.0, fills(namespace, "accepted"));
    }

    @Test
    void everyPathThatWritesAnEntryIsChecked() throws Exception {
        String namespace = scope.key("paths");
        redis.set(RedisLayout.holdsKey(namespace), RedisLayout.holds(COLUMN));
        MutableClock clock = new MutableClock();
        CacheNamespace<String> ns = cache(clock).namespace(namespace, Codecs.utf8(),
                EVENTUAL.withStaleWhileRevalidate(Duration.ofSeconds(10)), LSN);
        // getAll: each miss of the batch
        String a = scope.key("product:10");
        String b = scope.key("product:11");
        Map<String, String> all = ns.getAll(List.of(a, b), keys -> {
            Map<String, Loaded<String>> out = new java.util.HashMap<>();
            keys.forEach(k -> out.put(k, Loaded.of("bulk", 1099511627776L)));
            return out;
        });
        assertEquals(Map.of(a, "bulk", b, "bulk"), all);
        assertEquals(0, redis.exists(a, b));
        // lookup, then fill (frameworks that load between their read and their write)
        String c = scope.key("product:12");
        CacheNamespace.Lookup<String> miss = ns.lookup(c);
        assertEquals("framework", ns.fill(miss, Loaded.of("framework", 1099511627776L)));
        assertEquals(0, redis.exists(c));
        // a soft-expired entry under other holds: not served stale (anEntryUnderOtherHoldsIsNotServed), loaded, and the
        // fill over it refused (left as it was, not replaced)
        String d = scope.key("product:13");
        redis.hset(d, Map.of(RedisLayout.ENTRY_VERSION, "5", RedisLayout.ENTRY_DATA, "old", RedisLayout.ENTRY_SOFT_EXPIRY,
                Long.toString(clock.millis() - 1)));
        double before = fills(namespace, "refused-holds");
        assertEquals("refreshed", ns.get(d, k -> Loaded.of("refreshed", 1099511627776L)), "not served: loaded");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (fills(namespace, "refused-holds") == before && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(10); // waiting for the sentinel: the refresh's refusal
        }
        assertEquals(before + 1, fills(namespace, "refused-holds"), "its fill is refused too");
        assertEquals("old", redis.hget(d, RedisLayout.ENTRY_DATA));
        assertEquals(0.0, fills(namespace, "accepted"));
    }
}
