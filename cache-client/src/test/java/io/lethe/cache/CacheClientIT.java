package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The read path against a real Redis; invalidations are applied with invalidate.lua, as the pipeline does. */
@ExtendWith(LetheStackExtension.class)
class CacheClientIT {
    /** Without shadow reads: these tests count loads, and a sampled hit's inspection loads too (see ShadowReadIT). */
    private static final Policy EVENTUAL = Policy.eventual().withTtl(Duration.ofMinutes(10), 0.1).withShadowReads(0);
    private LetheStack stack;
    private TestScope scope;
    private RedisClient client;
    private RedisCommands<String, String> redis;
    private final List<LetheCache> caches = new ArrayList<>();

    @BeforeEach
    void connect(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
        this.client = RedisClient.create();
        StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(stack.redisUri("us-east")));
        this.redis = c.sync();
        redis.scriptLoad(LuaScript.INVALIDATE.source());
    }

    @AfterEach
    void close() {
        caches.forEach(LetheCache::close);
        client.shutdown();
    }

    private LetheCache cache(LetheCache.Builder builder) {
        LetheCache cache = builder.build();
        caches.add(cache);
        return cache;
    }

    private LetheCache cache() {
        return cache(LetheCache.builder(stack.redisUri("us-east")));
    }

    /** What the region consumer does for one key. */
    private void invalidate(String key, String version) {
        redis.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER, new String[] {key, RedisLayout.fenceKey(key)},
                version, "60000", "12345");
    }

    @Test
    void aTokenReadIsServedFromTheCacheOnlyOnceTheRegionAppliedPastTheToken() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        String group = scope.key("group");
        CacheNamespace<String> ns = cache(LetheCache.builder(stack.redisUri("us-east")).meterRegistry(registry).readYourWrites(group))
                .namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:7");
        assertEquals("old", ns.get(key, k -> Loaded.of("old")), "a plain read fills the cache");
        String watermark = io.lethe.schemas.redis.AppliedLsn.key(group);

        // no watermark yet, then one behind the token (and one partition missing): the primary is read
        assertEquals("new", ns.get(key, k -> Loaded.of("new"), 1000));
        redis.hset(watermark, java.util.Map.of("partitions", "2", "0", "5000"));
        assertEquals("new", ns.get(key, k -> Loaded.of("new"), 1000), "partition 1 has no watermark: unknown");
        redis.hset(watermark, java.util.Map.of("1", "999"));
        assertEquals("new", ns.get(key, k -> Loaded.of("new"), 1000), "the region applied only up to 999");
        assertEquals(3, registry.counter("lethe.cache.token.reads", "namespace", "product", "result", "primary").count());

        // the primary's value replaced the unversioned entry (a revalidation fill); at or past the token the cache answers
        redis.hset(watermark, java.util.Map.of("1", "1000"));
        assertEquals("new", ns.get(key, k -> {
            throw new AssertionError("covered: served from the cache");
        }, 1000));
        assertEquals(1, registry.counter("lethe.cache.token.reads", "namespace", "product", "result", "cache").count());
        assertEquals("new", ns.get(key, k -> Loaded.of("x"), 0), "a token of 0 reads as a plain get");
    }

    @Test
    void aTokenReadWithoutReadYourWritesConfiguredIsRefused() {
        CacheNamespace<String> ns = cache().namespace("product", Codecs.utf8(), EVENTUAL);
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> ns.get(scope.key("product:8"), k -> Loaded.of("v"), 42));
        assertTrue(e.getMessage().contains("readYourWrites"), e.getMessage());
    }

    /**
     * Tokens come from the application's callers (issue 34, "Abuse"): one beyond the primary's
     * current position can never be covered, so it would send every read of it to the primary. With
     * the primary's position known ({@link LetheCache.Builder#primaryPosition}) such a token is
     * refused with a typed exception; a token at or below it reads as before, and the position is
     * asked again only when a token is beyond the highest one seen (one question at a time).
     */
    @Test
    void aTokenBeyondThePrimarysPositionIsRefused() {
        AtomicInteger asked = new AtomicInteger();
        java.util.concurrent.atomic.AtomicLong primary = new java.util.concurrent.atomic.AtomicLong(5000);
        String group = scope.key("group");
        CacheNamespace<String> ns = cache(LetheCache.builder(stack.redisUri("us-east")).readYourWrites(group)
                .primaryPosition(() -> {
                    asked.incrementAndGet();
                    return new ReadToken(primary.get(), "7/1");
                })).namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:70");
        assertEquals("v", ns.get(key, k -> Loaded.of("v"), 4000));
        assertEquals("v", ns.get(key, k -> Loaded.of("v"), new ReadToken(5000, "7/1")));
        assertEquals(1, asked.get(), "asked once; 4000 and 5000 are within what it said");
        TokenAheadOfPrimaryException e = org.junit.jupiter.api.Assertions.assertThrows(TokenAheadOfPrimaryException.class,
                () -> ns.get(key, k -> {
                    throw new AssertionError("a refused token never reaches the loader");
                }, 1L << 60));
        assertTrue(e.getMessage().contains("1152921504606846976") && e.getMessage().contains("5000"), e.getMessage());
        assertEquals(2, asked.get(), "asked again before refusing: the primary may have moved on");
        primary.set(9000);
        assertEquals("v", ns.get(key, k -> Loaded.of("v"), 8000), "the primary moved past it: a fresh token is served");
        assertEquals("w", ns.get(key, k -> Loaded.of("w"), new ReadToken(1L << 60, "8/2")),
                "a token of another history cannot be compared: read from the primary, not refused");
    }

    /**
     * Token reads that miss load from the primary; many readers of one key must not each load it.
     * A reader joins only a load that starts after it arrived (one that started before may have read
     * the row before the reader's write), so at most one load runs and one waits per key.
     */
    @Test
    void concurrentTokenReadsOfAKeyShareLoadsThatStartedAfterThem() throws Exception {
        String group = scope.key("group");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CacheNamespace<String> ns = cache(LetheCache.builder(stack.redisUri("us-east")).meterRegistry(registry).readYourWrites(group))
                .namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:71");
        AtomicInteger loads = new AtomicInteger();
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Loader<String> loader = k -> {
            int n = loads.incrementAndGet();
            if (n == 1) {
                firstStarted.countDown();
                release.await();
            }
            return Loaded.of("load-" + n);
        };
        CompletableFuture<String> first = ns.getAsync(key, loader, 1000);
        assertTrue(firstStarted.await(10, TimeUnit.SECONDS));
        List<CompletableFuture<String>> later = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            later.add(ns.getAsync(key, loader, 1000));
        }
        // each reader asks for a load after its Redis round trip: wait until all 101 have (the sentinel), then let load 1 end
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (registry.counter("lethe.cache.token.reads", "namespace", "product", "result", "primary").count() < 101) {
            assertTrue(System.nanoTime() < deadline, "101 token reads missed the cache");
            Thread.onSpinWait();
        }
        release.countDown();
        assertEquals("load-1", first.get(10, TimeUnit.SECONDS));
        for (CompletableFuture<String> g : later) {
            assertEquals("load-2", g.get(10, TimeUnit.SECONDS), "arrived while load 1 ran: they share the next load, not load 1");
        }
        assertEquals(2, loads.get(), "101 token reads of one key, two loads");
    }

    @Test
    void aMissIsLoadedAndFilledThenServedFromRedis() {
        CacheNamespace<String> ns = cache().namespace("product", Codecs.utf8(), EVENTUAL);
        AtomicInteger loads = new AtomicInteger();
        String key = scope.key("product:1");
        assertEquals("v1", ns.get(key, k -> {
            loads.incrementAndGet();
            return Loaded.of("v1");
        }));
        assertEquals("v1", ns.get(key, k -> {
            loads.incrementAndGet();
            return Loaded.of("other");
        }));
        assertEquals(1, loads.get());
        assertEquals("0", redis.hget(key, "v"), "unknown version");
        long ttl = redis.pttl(key);
        assertTrue(ttl > 9 * 60_000 && ttl <= 11 * 60_000, "ttl with jitter: " + ttl);
    }

    @Test
    void aFillIsRefusedWhenAnInvalidationLandsDuringTheLoadButTheValueIsReturned() throws Exception {
        CacheNamespace<String> ns = cache().namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:2");
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> get = ns.getAsync(key, k -> {
            loading.countDown();
            release.await();
            return Loaded.of("old row");
        });
        assertTrue(loading.await(10, TimeUnit.SECONDS));
        invalidate(key, "500");
        release.countDown();
        assertEquals("old row", get.get(10, TimeUnit.SECONDS), "the caller still gets what was loaded");
        assertEquals(0, redis.exists(key), "but it is not cached");
        assertEquals("new row", ns.get(key, k -> Loaded.of("new row")));
        assertEquals("new row", ns.get(key, k -> Loaded.of("unexpected")));
    }

    /**
     * A load longer than the fence TTL (the steady scenario's run 1, hypothesis b): the key had no
     * fence at the miss, the invalidation of a change committed during the load fenced it, and that
     * fence expired before the load returned. Nothing in Redis could refuse the old value then
     * (fill.lua accepts a fill that saw no fence when there is none), so the client does not send it.
     */
    @Test
    void aFillWhoseLoadOutlivedAFenceCreatedDuringItIsNotWritten() throws Exception {
        CacheNamespace<String> ns = cache().namespace("product", Codecs.utf8(), EVENTUAL.withFenceTtl(Duration.ofSeconds(1)));
        String key = scope.key("product:slow");
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> get = ns.getAsync(key, k -> {
            loading.countDown();
            release.await();
            return Loaded.of("row before the change");
        });
        assertTrue(loading.await(10, TimeUnit.SECONDS), "the miss found no fence and the load started");
        // the region applies the change's invalidation with the namespace's fence TTL (1 s), and the fence expires
        redis.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER, new String[] {key, RedisLayout.fenceKey(key)},
                "500", "1000", "12345");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (redis.exists(RedisLayout.fenceKey(key)) == 1) {
            assertTrue(System.nanoTime() < deadline, "the fence expires after its 1 s TTL");
            Thread.sleep(20);
        }
        release.countDown();
        assertEquals("row before the change", get.get(10, TimeUnit.SECONDS), "the caller still gets what was loaded");
        assertEquals(0, redis.exists(key), "but the value the invalidation made stale is not cached");
        assertEquals("new row", ns.get(key, k -> Loaded.of("new row")), "the next miss loads and fills the row as it is now");
    }

    @Test
    void aFillIsUndoneWhenANamespaceWideInvalidationStartedDuringTheLoad() throws Exception {
        CacheNamespace<String> ns = cache().namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:truncated");
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> get = ns.getAsync(key, k -> {
            loading.countDown();
            release.await();
            return Loaded.of("row before the TRUNCATE");
        });
        assertTrue(loading.await(10, TimeUnit.SECONDS));
        // the region consumer applying a TRUNCATE: epoch first, then a scan, which finds nothing for this key
        redis.incr(RedisLayout.epochKey("product"));
        release.countDown();
        assertEquals("row before the TRUNCATE", get.get(10, TimeUnit.SECONDS));
        assertEquals(0, redis.exists(key), "the fill landed after the scan passed, and was undone");
        assertEquals("after", ns.get(key, k -> Loaded.of("after")));
        assertEquals("after", ns.get(key, k -> Loaded.of("unexpected")), "later fills stay");
    }

    @Test
    void twoHundredConcurrentGetsOfAColdKeyLoadOnce() throws Exception {
        CacheNamespace<String> ns = cache().namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:hot");
        AtomicInteger loads = new AtomicInteger();
        CountDownLatch issued = new CountDownLatch(1);
        List<CompletableFuture<String>> gets = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            gets.add(ns.getAsync(key, k -> {
                loads.incrementAndGet();
                issued.await();
                return Loaded.of("hot");
            }));
        }
        issued.countDown();
        for (CompletableFuture<String> g : gets) {
            assertEquals("hot", g.get(10, TimeUnit.SECONDS));
        }
        assertEquals(1, loads.get());
    }

    @Test
    void aFillLockLetsFourProcessesShareOneLoad() throws Exception {
        String key = scope.key("product:cold");
        AtomicInteger loads = new AtomicInteger();
        List<CompletableFuture<String>> gets = new ArrayList<>();
        Policy locked = EVENTUAL.withFillLock(Duration.ofSeconds(5));
        for (int process = 0; process < 4; process++) {
            CacheNamespace<String> ns = cache().namespace("product", Codecs.utf8(), locked);
            for (int i = 0; i < 50; i++) {
                gets.add(ns.getAsync(key, k -> {
                    loads.incrementAndGet();
                    Thread.sleep(300); // the database's load time
                    return Loaded.of("cold");
                }));
            }
        }
        for (CompletableFuture<String> g : gets) {
            assertEquals("cold", g.get(20, TimeUnit.SECONDS));
        }
        assertTrue(loads.get() <= 2, "loads across 4 clients: " + loads.get());
    }

    @Test
    void strongBypassesTheCache() {
        CacheNamespace<String> ns = cache().namespace("account", Codecs.utf8(), Policy.strong());
        AtomicInteger loads = new AtomicInteger();
        String key = scope.key("account:1");
        for (int i = 0; i < 3; i++) {
            assertEquals("balance", ns.get(key, k -> {
                loads.incrementAndGet();
                return Loaded.of("balance");
            }));
        }
        assertEquals(3, loads.get());
        assertEquals(0, redis.exists(key));
    }

    @Test
    void boundedServesOnlyYoungEntries() {
        MutableClock clock = new MutableClock();
        CacheNamespace<String> ns = cache(LetheCache.builder(stack.redisUri("us-east")).clock(clock))
                .namespace("stock", Codecs.utf8(), Policy.bounded(Duration.ofSeconds(5)).withShadowReads(0));
        String key = scope.key("stock:1");
        AtomicInteger loads = new AtomicInteger();
        assertEquals("1", ns.get(key, k -> Loaded.of(Integer.toString(loads.incrementAndGet()))));
        clock.advance(Duration.ofSeconds(4));
        assertEquals("1", ns.get(key, k -> Loaded.of(Integer.toString(loads.incrementAndGet()))), "younger than 5 s");
        clock.advance(Duration.ofSeconds(2));
        assertEquals("2", ns.get(key, k -> Loaded.of(Integer.toString(loads.incrementAndGet()))), "older: reloaded");
        assertEquals("2", ns.get(key, k -> Loaded.of(Integer.toString(loads.incrementAndGet()))), "and refilled");
    }

    @Test
    void eventualServesUntilInvalidated() {
        CacheNamespace<String> ns = cache().namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:3");
        ns.get(key, k -> Loaded.of("a"));
        assertEquals("a", ns.get(key, k -> Loaded.of("b")));
        invalidate(key, "1");
        assertEquals("b", ns.get(key, k -> Loaded.of("b")));
    }

    @Test
    void notFoundIsCachedUntilAnInsertInvalidatesIt() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CacheNamespace<String> ns = cache(LetheCache.builder(stack.redisUri("us-east")).meterRegistry(registry))
                .namespace("product", Codecs.utf8(), EVENTUAL.withNegativeTtl(Duration.ofMinutes(1)));
        String key = scope.key("product:404");
        AtomicInteger loads = new AtomicInteger();
        assertNull(ns.get(key, k -> {
            loads.incrementAndGet();
            return Loaded.notFound();
        }));
        assertNull(ns.get(key, k -> {
            loads.incrementAndGet();
            return Loaded.notFound();
        }));
        assertEquals(1, loads.get());
        assertEquals(1.0, registry.get("lethe.cache.gets").tag("result", "negative").counter().count());
        invalidate(key, "10"); // the row was inserted
        assertEquals("now exists", ns.get(key, k -> {
            loads.incrementAndGet();
            return Loaded.of("now exists");
        }));
        assertEquals(2, loads.get());
    }

    @Test
    void staleWhileRevalidateServesTheOldValueAndRefreshesOnce() throws Exception {
        MutableClock clock = new MutableClock();
        CacheNamespace<String> ns = cache(LetheCache.builder(stack.redisUri("us-east")).clock(clock))
                .namespace("product", Codecs.utf8(), EVENTUAL.withStaleWhileRevalidate(Duration.ofSeconds(10)));
        String key = scope.key("product:swr");
        ns.get(key, k -> Loaded.of("old"));
        clock.advance(Duration.ofSeconds(11));
        AtomicInteger refreshes = new AtomicInteger();
        CountDownLatch refreshed = new CountDownLatch(1);
        List<String> served = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            served.add(ns.get(key, k -> {
                refreshes.incrementAndGet();
                refreshed.await();
                return Loaded.of("new");
            }));
        }
        assertEquals(List.of("old", "old", "old", "old", "old", "old", "old", "old", "old", "old"), served, "served at once, stale");
        refreshed.countDown();
        // the row is "new" now: a read racing the refresh's fill may see "old" once more and
        // start one more refresh, which loads what a real loader would, the current row
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String now = "old";
        while (!now.equals("new") && System.nanoTime() < deadline) {
            now = ns.get(key, k -> Loaded.of("new"));
        }
        assertEquals("new", now, "the refreshed value is served once the refresh landed");
        assertEquals(1, refreshes.get(), "one background refresh per key while it runs, for ten stale reads");
    }

    @Test
    void theNearCacheDropsItsCopyWhenTheKeyIsInvalidated() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).meterRegistry(registry)
                .nearCache(1000, Duration.ofMinutes(10)));
        CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:near");
        ns.get(key, k -> Loaded.of("v1")); // miss, fill
        ns.get(key, k -> Loaded.of("x")); // Redis hit, tracked, kept in L1
        assertEquals("v1", ns.get(key, k -> Loaded.of("x")));
        assertTrue(registry.get("lethe.cache.near.hits").counter().count() >= 1, "served from L1");
        assertEquals(1, cache.nearCacheSize());
        invalidate(key, "7"); // the pipeline's delete in Redis
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (cache.nearCacheSize() > 0) {
            assertTrue(System.nanoTime() < deadline, "the L1 copy outlived the invalidation");
            Thread.sleep(5);
        }
        assertEquals("v2", ns.get(key, k -> Loaded.of("v2")), "the next get goes to the database, long before the L1 TTL");
    }

    /**
     * Tracking runs with NOLOOP, so Redis never tells this process about its own writes. A fill
     * whose namespace epoch moved during the load is undone by the same connection that read it
     * back in between: the near cache must drop that copy by itself. The read in between is made
     * certain by pausing Redis's writes ({@code CLIENT PAUSE WRITE}) once the fill was sent, so the
     * second reader's read queues behind the fill and before the undo on the one connection.
     */
    @Test
    void theNearCacheDropsAFillItsOwnProcessUndid() throws Exception {
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).nearCache(1000, Duration.ofMinutes(10)));
        CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:near-undone");
        redis.scriptLoad(LuaScript.FILL.source()); // as after any earlier fill: no NOSCRIPT round trip moves the fill behind the second read
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> first = ns.getAsync(key, k -> {
            loading.countDown();
            release.await();
            return Loaded.of("row before the TRUNCATE");
        });
        assertTrue(loading.await(10, TimeUnit.SECONDS));
        redis.incr(RedisLayout.epochKey("product")); // a namespace-wide invalidation started: its scan found nothing yet
        CompletableFuture<String> second;
        pauseWrites(Duration.ofSeconds(30));
        try {
            release.countDown();
            awaitBlockedScriptCall(Duration.ofSeconds(10)); // the fill is in Redis, held by the pause
            second = ns.getAsync(key, k -> Loaded.of("loaded by the second reader"));
        } finally {
            redis.dispatch(CommandType.CLIENT, new StatusOutput<>(StringCodec.UTF8), new CommandArgs<>(StringCodec.UTF8).add("UNPAUSE"));
        }
        assertEquals("row before the TRUNCATE", first.get(10, TimeUnit.SECONDS));
        assertEquals("row before the TRUNCATE", second.get(10, TimeUnit.SECONDS), "the second read found the fill before its undo");
        assertEquals(0, redis.exists(key), "the fill was undone in Redis");
        assertEquals("after", ns.get(key, k -> Loaded.of("after")), "the near cache must not serve the fill its own process undid");
    }

    private void pauseWrites(Duration d) {
        redis.dispatch(CommandType.CLIENT, new StatusOutput<>(StringCodec.UTF8),
                new CommandArgs<>(StringCodec.UTF8).add("PAUSE").add(d.toMillis()).add("WRITE"));
    }

    /** Waits until a client is blocked by CLIENT PAUSE in a script call (CLIENT LIST: flags with b, cmd evalsha). */
    private void awaitBlockedScriptCall(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (redis.clientList().lines().noneMatch(l -> l.contains(" cmd=evalsha") && l.matches(".* flags=[A-Za-z]*b[A-Za-z]* .*"))) {
            assertTrue(System.nanoTime() < deadline, "no script call was held by the pause: " + redis.clientList());
            Thread.sleep(5);
        }
    }

    /**
     * While Redis does not answer, values are loaded and served uncached, and concurrent misses of
     * one key share one load, as they do when Redis answers (before issue 29 each read that failed
     * called the loader itself: a Redis outage multiplied the database's load by the readers).
     */
    @Test
    void whenRedisStopsAnsweringConcurrentReadsOfAKeyShareOneLoad() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CacheNamespace<String> ns = cache(LetheCache.builder(stack.redisUri("ap-tokyo")).meterRegistry(registry)
                .timeout(Duration.ofMillis(300))).namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:9");
        AtomicInteger loads = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        List<CompletableFuture<String>> gets = new ArrayList<>();
        stack.pauseRedis("ap-tokyo");
        try {
            for (int i = 0; i < 100; i++) {
                gets.add(ns.getAsync(key, k -> {
                    loads.incrementAndGet();
                    release.await();
                    return Loaded.of("from db");
                }));
            }
            // the sentinel: every read has failed and taken the outage path before the load may end
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            io.micrometer.core.instrument.Counter failed = registry.counter("lethe.cache.gets", "namespace", "product", "result", "error");
            while (failed.count() < 100) {
                assertTrue(System.nanoTime() < deadline, "reads failed so far: " + failed.count());
                Thread.sleep(5);
            }
        } finally {
            release.countDown();
            stack.resumeRedis("ap-tokyo");
        }
        for (CompletableFuture<String> g : gets) {
            assertEquals("from db", g.get(10, TimeUnit.SECONDS));
        }
        assertEquals(1, loads.get(), "loads for 100 concurrent reads of one key during the outage");
    }

    @Test
    void buildWaitsForARedisThatIsNotAnsweringYet() throws Exception {
        stack.pauseRedis("ap-tokyo");
        CompletableFuture<LetheCache> building;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try {
            building = CompletableFuture.supplyAsync(() -> cache(LetheCache.builder(stack.redisUri("ap-tokyo"))
                    .meterRegistry(registry).timeout(Duration.ofMillis(300)).connectWithin(Duration.ofSeconds(60))));
            // the sentinel: three handshakes have timed out, and build() is still waiting
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (registry.find("lethe.cache.redis.connect.failures").counters().stream().mapToDouble(c -> c.count()).sum() < 3) {
                assertFalse(building.isDone(), "build() gave up while Redis was paused: " + building);
                assertTrue(System.nanoTime() < deadline, "no failed connection attempt counted while Redis was paused");
                Thread.sleep(20);
            }
            assertFalse(building.isDone(), "build() gave up while Redis was paused: " + building);
        } finally {
            stack.resumeRedis("ap-tokyo");
        }
        CacheNamespace<String> ns = building.get(60, TimeUnit.SECONDS).namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:late");
        assertEquals("v1", ns.get(key, k -> Loaded.of("v1")));
        assertEquals("v1", ns.get(key, k -> Loaded.of("not cached")), "connected: the fill landed in Redis");
    }

    @Test
    void aFillLockIsReleasedOnlyByItsHolder() throws Exception {
        String key = scope.keyPrefix() + "lock:1";
        try (CacheRedis first = new CacheRedis(List.of(RedisURI.create(stack.redisUri("us-east"))), false, null, Duration.ofSeconds(10))) {
            assertTrue(first.tryLock(key, "a", Duration.ofMillis(50)).get());
            String lock = CacheRedis.lockKey(key);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (redis.exists(lock) == 1) { // until a's lease runs out
                assertTrue(System.nanoTime() < deadline, "the lease never expired");
                Thread.sleep(10);
            }
            assertTrue(first.tryLock(key, "b", Duration.ofSeconds(30)).get(), "another process holds it now");
            assertEquals(0L, first.unlock(key, "a").get(), "the late holder's unlock leaves b's lock alone");
            assertEquals("b", redis.get(lock));
            assertEquals(1L, first.unlock(key, "b").get());
            assertEquals(0, redis.exists(lock));
        }
    }
}
