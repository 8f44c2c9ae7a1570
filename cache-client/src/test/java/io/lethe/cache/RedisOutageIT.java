package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the read path does while a region's Redis is down (its process paused: connections stay
 * open and every command times out), against a real Redis: the circuit breaker, single-flight
 * on the outage path, admission control of loads, and stale serving from the near cache.
 */
@ExtendWith(LetheStackExtension.class)
class RedisOutageIT {
    private static final String REGION = "ap-tokyo";
    private static final Policy EVENTUAL = Policy.eventual().withTtl(Duration.ofMinutes(10), 0.1).withShadowReads(0);

    private LetheStack stack;
    private TestScope scope;
    private final List<LetheCache> caches = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void setUp(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
    }

    @AfterEach
    void close() {
        caches.forEach(LetheCache::close);
    }

    private LetheCache cache(LetheCache.Builder builder) {
        LetheCache cache = builder.meterRegistry(registry).build();
        caches.add(cache);
        return cache;
    }

    private LetheCache.Builder region() {
        return LetheCache.builder(stack.redisUri(REGION));
    }

    /** Reads of distinct keys while Redis is paused, each waiting for its timeout: enough failures to open the breaker. */
    private void failReads(CacheNamespace<String> ns, int reads) throws Exception {
        List<CompletableFuture<String>> gets = new ArrayList<>();
        for (int i = 0; i < reads; i++) {
            gets.add(ns.getAsync(scope.key("product:opener-" + i), k -> Loaded.of("from db")));
        }
        for (CompletableFuture<String> g : gets) {
            assertEquals("from db", g.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void whileTheBreakerIsOpenReadsDoNotWaitForTheCommandTimeout() throws Exception {
        CacheNamespace<String> ns = cache(region().timeout(Duration.ofSeconds(2))
                .circuitBreaker(50, Duration.ofSeconds(60), 3, Duration.ofMinutes(5))).namespace("product", Codecs.utf8(), EVENTUAL);
        stack.pauseRedis(REGION);
        try {
            failReads(ns, 3);
            assertEquals(1.0, registry.get("lethe.cache.redis.breaker.state").gauge().value(), "the breaker is open");
            long t0 = System.nanoTime();
            assertEquals("from db", ns.get(scope.key("product:fast"), k -> Loaded.of("from db")));
            long millis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(millis < 1000, "a read with the breaker open took " + millis + " ms; the command timeout is 2000 ms");
        } finally {
            stack.resumeRedis(REGION);
        }
    }

    @Test
    void onceRedisAnswersAgainTheBreakerProbesAndReadsReturnToTheCache() throws Exception {
        CacheNamespace<String> ns = cache(region().timeout(Duration.ofMillis(300))
                .circuitBreaker(50, Duration.ofSeconds(60), 3, Duration.ofMillis(200))).namespace("product", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:back");
        assertEquals("cached", ns.get(key, k -> Loaded.of("cached")));
        stack.pauseRedis(REGION);
        try {
            failReads(ns, 10); // against the 4 commands of the fill: over 50 %
            assertEquals(1.0, registry.get("lethe.cache.redis.breaker.state").gauge().value(), "the breaker is open");
        } finally {
            stack.resumeRedis(REGION);
        }
        Await.until("the probes closing the breaker", Duration.ofSeconds(10), () -> {
            ns.get(key, k -> Loaded.of("from db"));
            return registry.get("lethe.cache.redis.breaker.state").gauge().value() == 0.0;
        });
        assertEquals("cached", ns.get(key, k -> Loaded.of("from db")), "served from Redis again");
    }

    @Test
    void loadsOverTheConcurrencyBoundAreRejectedWithATypedException() throws Exception {
        CacheNamespace<String> ns = cache(region()).namespace("product", Codecs.utf8(),
                EVENTUAL.withLoadLimits(2, 0, Duration.ofMillis(200)));
        AtomicInteger started = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        List<CompletableFuture<String>> gets = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            gets.add(ns.getAsync(scope.key("product:bounded-" + i), k -> {
                started.incrementAndGet();
                release.await();
                return Loaded.of("v");
            }));
        }
        try {
            Await.until("three loads rejected", Duration.ofSeconds(10),
                    () -> gets.stream().filter(CompletableFuture::isCompletedExceptionally).count() == 3);
        } finally {
            release.countDown();
        }
        for (CompletableFuture<String> g : gets) {
            try {
                assertEquals("v", g.get(10, TimeUnit.SECONDS));
            } catch (ExecutionException e) {
                LoadRejectedException rejected = assertInstanceOf(LoadRejectedException.class, e.getCause());
                assertEquals("concurrency", rejected.reason());
                assertEquals("product", rejected.namespace());
            }
        }
        assertEquals(2, started.get(), "loads that reached the loader");
        assertEquals(3.0, registry.counter("lethe.cache.loads.rejected", "namespace", "product", "reason", "concurrency").count());
        CountDownLatch hold = new CountDownLatch(1);
        List<CompletableFuture<String>> two = List.of(
                ns.getAsync(scope.key("product:held-1"), k -> {
                    started.incrementAndGet();
                    hold.await();
                    return Loaded.of("v");
                }),
                ns.getAsync(scope.key("product:held-2"), k -> {
                    started.incrementAndGet();
                    hold.await();
                    return Loaded.of("v");
                }));
        try {
            Await.until("two more loads running", Duration.ofSeconds(10), () -> started.get() == 4);
            LoadRejectedException sync = assertThrows(LoadRejectedException.class,
                    () -> ns.get(scope.key("product:third"), k -> Loaded.of("v")));
            assertEquals("concurrency", sync.reason(), "get() throws the typed exception itself");
        } finally {
            hold.countDown();
        }
        for (CompletableFuture<String> f : two) {
            assertEquals("v", f.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void loadsPerSecondAreBoundedAndTheExcessWaitsWithinItsDeadline() throws Exception {
        CacheNamespace<String> strict = cache(region()).namespace("product", Codecs.utf8(), EVENTUAL.withLoadLimits(0, 2, Duration.ZERO));
        int admitted = 0;
        int rejected = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            try {
                strict.get(scope.key("product:rate-" + i), k -> Loaded.of("v"));
                admitted++;
            } catch (LoadRejectedException e) {
                assertEquals("rate", e.reason());
                rejected++;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(rejected >= 1, "10 loads at once under a bound of 2/s: none rejected");
        assertTrue(admitted <= 1 + 2 * Math.ceil(seconds), admitted + " loads admitted in " + seconds + " s under 2/s");

        CacheNamespace<String> patient = cache(region()).namespace("stock", Codecs.utf8(),
                EVENTUAL.withLoadLimits(0, 10, Duration.ofSeconds(5)));
        long t1 = System.nanoTime();
        for (int i = 0; i < 5; i++) {
            assertEquals("v", patient.get(scope.key("stock:rate-" + i), k -> Loaded.of("v")), "waits for its turn, within 5 s");
        }
        long millis = (System.nanoTime() - t1) / 1_000_000;
        assertTrue(millis >= 350, "5 loads at 10/s took " + millis + " ms: they were not spaced");
    }

    @Test
    void anEventualNamespaceServesItsNearCopyWhileRedisIsDownButNeverOlderThanItsBound() throws Exception {
        MutableClock clock = new MutableClock();
        LetheCache cache = cache(region().clock(clock).timeout(Duration.ofMillis(300)).nearCache(1000, Duration.ofMinutes(10))
                .readYourWrites(scope.key("group")).circuitBreaker(50, Duration.ofSeconds(60), 3, Duration.ofMinutes(5)));
        CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), EVENTUAL.withStaleOnOutage(Duration.ofSeconds(30)));
        CacheNamespace<String> plain = cache.namespace("price", Codecs.utf8(), EVENTUAL);
        String key = scope.key("product:near-outage");
        String price = scope.key("price:near-outage");
        for (int i = 0; i < 3; i++) { // miss and fill, Redis hit (kept in L1), L1 hit
            assertEquals("cached", ns.get(key, k -> Loaded.of("cached")));
            assertEquals("cached", plain.get(price, k -> Loaded.of("cached")));
        }
        stack.pauseRedis(REGION);
        try {
            failReads(ns, 20); // 20 failed commands against the 10 before: over 50 %
            assertEquals(1.0, registry.get("lethe.cache.redis.breaker.state").gauge().value(), "the breaker is open");
            clock.advance(Duration.ofSeconds(20));
            assertEquals("cached", ns.get(key, k -> {
                throw new AssertionError("served from the near cache, not loaded");
            }));
            assertEquals(1.0, registry.counter("lethe.cache.stale.serves", "namespace", "product").count());
            assertEquals("from db", plain.get(price, k -> Loaded.of("from db")), "a namespace without staleOnOutage loads");
            assertEquals("from db", ns.get(key, k -> Loaded.of("from db"), 42), "a token read never takes a stale copy");
            clock.advance(Duration.ofSeconds(11));
            assertEquals("from db", ns.get(key, k -> Loaded.of("from db")), "31 s after Redis last answered: older than the bound");
            assertEquals(1.0, registry.counter("lethe.cache.stale.serves", "namespace", "product").count());
        } finally {
            stack.resumeRedis(REGION);
        }
    }

    /**
     * Redis killed (its connection lost, refused on reconnect) with a breaker that cannot open
     * here: the lost connection alone suspends the near cache, whose copy is served within the
     * bound; once Redis is back and tracking is on again, the copies kept through the outage are
     * dropped (invalidations may have been missed) before the near cache serves hits again.
     */
    @Test
    void aLostConnectionSuspendsTheNearCacheAndItsKeptCopiesAreDroppedWhenRedisIsBack(EmbeddedStack embedded) throws Exception {
        MutableClock clock = new MutableClock();
        LetheCache cache = cache(region().clock(clock).timeout(Duration.ofMillis(300)).nearCache(1000, Duration.ofMinutes(10))
                .circuitBreaker(50, Duration.ofSeconds(60), 100_000, Duration.ofMinutes(5)));
        CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), EVENTUAL.withStaleOnOutage(Duration.ofSeconds(30)));
        String key = scope.key("product:killed");
        for (int i = 0; i < 3; i++) {
            assertEquals("cached", ns.get(key, k -> Loaded.of("cached")));
        }
        embedded.killRedis(REGION);
        try {
            Await.until("the copy served stale once the lost connection suspended the near cache", Duration.ofSeconds(10), () -> {
                assertEquals("cached", ns.get(key, k -> {
                    throw new AssertionError("served from the near cache, not loaded");
                }));
                return registry.counter("lethe.cache.stale.serves", "namespace", "product").count() >= 1;
            });
            clock.advance(Duration.ofSeconds(31));
            assertEquals("from db", ns.get(key, k -> Loaded.of("from db")), "older than the bound: loaded");
        } finally {
            embedded.startRedis(REGION, List.of());
        }
        double nearHits = registry.counter("lethe.cache.near.hits", "namespace", "product", "result", "hit").count();
        Await.until("the near cache serving hits again", Duration.ofSeconds(30), () -> {
            assertEquals("fresh", ns.get(key, k -> Loaded.of("fresh")), "a copy kept through the outage was served after it");
            return registry.counter("lethe.cache.near.hits", "namespace", "product", "result", "hit").count() > nearHits;
        });
    }
}
