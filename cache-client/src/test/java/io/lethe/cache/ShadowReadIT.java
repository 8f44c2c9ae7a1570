package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Shadow reads against a real Redis. The "database" is a map the loader reads (the
 * application's loader is all the inspection knows of the source); invalidations are applied
 * with invalidate.lua, as the pipeline does.
 */
@ExtendWith(LetheStackExtension.class)
class ShadowReadIT {
    private static final Policy EVERY_HIT = Policy.eventual().withTtl(Duration.ofMinutes(10), 0).withShadowReads(1);

    private LetheStack stack;
    private TestScope scope;
    private RedisClient client;
    private RedisCommands<String, String> redis;
    private final List<LetheCache> caches = new ArrayList<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    /** The source: key to (value, version). */
    private final Map<String, Loaded<String>> db = new ConcurrentHashMap<>();

    @BeforeEach
    void connect(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
        this.client = RedisClient.create();
        this.redis = client.connect(RedisURI.create(stack.redisUri("us-east"))).sync();
        redis.scriptLoad(LuaScript.INVALIDATE.source());
    }

    @AfterEach
    void close() {
        caches.forEach(LetheCache::close);
        client.shutdown();
    }

    private LetheCache cache(LetheCache.Builder b) {
        LetheCache c = b.meterRegistry(registry).build();
        caches.add(c);
        return c;
    }

    private Loaded<String> fromDb(String key) {
        Loaded<String> row = db.get(key);
        return row == null ? Loaded.notFound() : row;
    }

    private double checks(String namespace, String result) {
        return registry.counter("lethe.cache.inspector.checks", "namespace", namespace, "result", result).count();
    }

    @Test
    void aStaleEntryPlantedBehindLethesBackIsFoundCountedHealedAndAudited() throws Exception {
        String ns = "shadow-stale";
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).shadowReadLimits(2, 100, Duration.ofMillis(300),
                Duration.ofSeconds(5)));
        CacheNamespace<String> products = cache.namespace(ns, Codecs.utf8(), EVERY_HIT);
        String key = scope.key("product:1");
        db.put(key, Loaded.of("right", 7));
        // what no invalidation will ever remove: an entry written behind Lethe's back, in the entry format
        redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "5", RedisLayout.ENTRY_DATA, "wrong"));
        redis.pexpire(key, 600_000);

        assertEquals("wrong", products.get(key, this::fromDb), "served from the cache: the read does not wait for the inspection");
        Await.until("the shadow read is finished", Duration.ofSeconds(20), () -> cache.shadowReadsPending() == 0);

        assertEquals(1, checks(ns, "stale"), "a confirmed stale entry is counted");
        assertEquals(0, checks(ns, "match") + checks(ns, "in-flight") + checks(ns, "converged"));
        assertEquals(0, redis.exists(key), "healed: invalidated at the served version");
        assertEquals("right", products.get(key, this::fromDb), "the next read reloads the database's value");
        assertEquals("7", redis.hget(key, RedisLayout.ENTRY_VERSION), "and fills it at the row's version");

        List<StreamMessage<String, String>> audit = redis.xrange(RedisLayout.AUDIT_STALE_STREAM, io.lettuce.core.Range.unbounded());
        StreamMessage<String, String> record = audit.stream().filter(m -> key.equals(m.getBody().get("key")))
                .findFirst().orElseThrow(() -> new AssertionError("no audit record for " + key + " in " + audit));
        assertEquals(ns, record.getBody().get("namespace"));
        assertEquals("5", record.getBody().get("served-version"));
        assertEquals("7", record.getBody().get("db-version"));
        assertEquals("1", record.getBody().get("healed"));
        assertTrue(Long.parseLong(record.getBody().get("detected-at")) > 0);
        assertTrue(record.getBody().values().stream().noneMatch(v -> v.equals("wrong") || v.equals("right")),
                "coordinates only, no values: " + record.getBody());
    }

    @Test
    void aCacheThatKnowsItsRegionTagsItsChecksWithIt() throws Exception {
        String ns = "shadow-region";
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).region("us-east")
                .shadowReadLimits(2, 100, Duration.ofMillis(300), Duration.ofSeconds(5)));
        CacheNamespace<String> products = cache.namespace(ns, Codecs.utf8(), EVERY_HIT);
        String key = scope.key("product:9");
        db.put(key, Loaded.of("right", 7));
        redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "5", RedisLayout.ENTRY_DATA, "wrong"));
        assertEquals("wrong", products.get(key, this::fromDb));
        Await.until("the shadow read is finished", Duration.ofSeconds(20), () -> cache.shadowReadsPending() == 0);
        assertEquals(1, registry.counter("lethe.cache.inspector.checks", "namespace", ns, "region", "us-east", "result", "stale").count(),
                "the alert's ratio is per region and namespace");
    }

    @Test
    void aStaleEntryIsOnlyAuditedWhenHealingIsOff() throws Exception {
        String ns = "shadow-noheal";
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).shadowReadsHeal(false)
                .shadowReadLimits(2, 100, Duration.ofMillis(300), Duration.ofSeconds(5)));
        CacheNamespace<String> products = cache.namespace(ns, Codecs.utf8(), EVERY_HIT);
        String key = scope.key("product:2");
        db.put(key, Loaded.of("right", 7));
        redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "5", RedisLayout.ENTRY_DATA, "wrong"));
        assertEquals("wrong", products.get(key, this::fromDb));
        Await.until("the shadow read is finished", Duration.ofSeconds(20), () -> cache.shadowReadsPending() == 0);
        assertEquals(1, checks(ns, "stale"));
        assertEquals("wrong", redis.hget(key, RedisLayout.ENTRY_DATA), "a verification reader leaves the judge's evidence alone");
    }

    @Test
    void aChangeInFlightEndsInFlightOrConvergedNeverStale() throws Exception {
        String ns = "shadow-inflight";
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).shadowReadLimits(4, 100, Duration.ofSeconds(2),
                Duration.ofSeconds(5)));
        CacheNamespace<String> products = cache.namespace(ns, Codecs.utf8(), EVERY_HIT.withShadowReads(0));
        CacheNamespace<String> sampled = cache.namespace(ns, Codecs.utf8(), EVERY_HIT);
        String invalidated = scope.key("product:3");
        String reverted = scope.key("product:4");
        db.put(invalidated, Loaded.of("old", 10));
        db.put(reverted, Loaded.of("old", 10));
        assertEquals("old", products.get(invalidated, this::fromDb), "filled at version 10");
        assertEquals("old", products.get(reverted, this::fromDb));
        // the database moves on; the pipeline has not applied the change yet
        db.put(invalidated, Loaded.of("new", 11));
        db.put(reverted, Loaded.of("new", 11));

        CountDownLatch firstLoads = new CountDownLatch(2);
        Loader<String> watched = k -> {
            Loaded<String> row = fromDb(k);
            firstLoads.countDown();
            return row;
        };
        assertEquals("old", sampled.get(invalidated, watched), "a hit: the entry the pipeline has not reached yet");
        assertEquals("old", sampled.get(reverted, watched));
        assertTrue(firstLoads.await(10, TimeUnit.SECONDS), "both shadow reads loaded the key");
        // within the grace: the invalidation lands for one; the other's row goes back to what was served
        redis.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER,
                new String[] {invalidated, RedisLayout.fenceKey(invalidated)}, "11", "60000", "12345");
        db.put(reverted, Loaded.of("old", 10));
        Await.until("both shadow reads are finished", Duration.ofSeconds(30), () -> cache.shadowReadsPending() == 0);

        assertEquals(1, checks(ns, "in-flight"), "the invalidation arrived within the grace");
        assertEquals(1, checks(ns, "converged"), "the database came back to the served value");
        assertEquals(0, checks(ns, "stale"), "a change in flight is never a confirmed stale entry");
    }

    @Test
    void theVerdictWaitsUntilTheRegionAppliedPastTheFirstLoad() throws Exception {
        String ns = "shadow-watermark";
        long tenMinutesAgoMicros = (System.currentTimeMillis() - 600_000) * 1000;
        // region A catches up after the first load; region B stays ten minutes behind
        String groupA = scope.key("group-a");
        String groupB = scope.key("group-b");
        for (String group : List.of(groupA, groupB)) {
            redis.hset(io.lethe.schemas.redis.AppliedLsn.key(group), Map.of("partitions", "1", "0", "100", "ts:0",
                    Long.toString(tenMinutesAgoMicros)));
        }
        LetheCache a = cache(LetheCache.builder(stack.redisUri("us-east")).readYourWrites(groupA)
                .shadowReadLimits(2, 100, Duration.ofMillis(200), Duration.ofSeconds(3)));
        LetheCache b = cache(LetheCache.builder(stack.redisUri("us-east")).readYourWrites(groupB)
                .shadowReadLimits(2, 100, Duration.ofMillis(200), Duration.ofSeconds(3)));
        String keyA = scope.key("product:6");
        String keyB = scope.key("product:7");
        for (String key : List.of(keyA, keyB)) {
            db.put(key, Loaded.of("right", 7));
            redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "5", RedisLayout.ENTRY_DATA, "wrong"));
        }
        CountDownLatch firstLoad = new CountDownLatch(1);
        Loader<String> watched = k -> {
            Loaded<String> row = fromDb(k);
            firstLoad.countDown();
            return row;
        };
        assertEquals("wrong", a.namespace(ns, Codecs.utf8(), EVERY_HIT).get(keyA, watched));
        assertTrue(firstLoad.await(10, TimeUnit.SECONDS));
        assertEquals(1, a.shadowReadsPending(), "the inspection is under way");
        redis.hset(io.lethe.schemas.redis.AppliedLsn.key(groupA), Map.of("0", "200", "ts:0",
                Long.toString((System.currentTimeMillis() + 1000) * 1000)));
        Await.until("region A's verdict", Duration.ofSeconds(20), () -> a.shadowReadsPending() == 0);
        assertEquals(1, checks(ns, "stale"), "applied past the first load, the difference is confirmed");

        assertEquals("wrong", b.namespace(ns, Codecs.utf8(), EVERY_HIT).get(keyB, this::fromDb));
        Await.until("region B's verdict", Duration.ofSeconds(20), () -> b.shadowReadsPending() == 0);
        assertEquals(1, checks(ns, "undecided"), "never applied past the first load within maxGrace + margin: undecided");
        assertEquals(1, checks(ns, "stale"));
        assertEquals("wrong", redis.hget(keyB, RedisLayout.ENTRY_DATA), "an undecided entry is not healed");
    }

    @Test
    void aChangeCommittedWhileTheFirstLoadRanIsNotJudgedByAWatermarkFromBeforeIt() throws Exception {
        // a loader slow to answer (a busy database, a saturated pool) sees a change committed after the
        // load started; the region applied everything up to a moment between the two, not the change
        String ns = "shadow-slowload";
        String group = scope.key("group-slow");
        String watermark = io.lethe.schemas.redis.AppliedLsn.key(group);
        redis.hset(watermark, Map.of("partitions", "1", "0", "100", "ts:0", Long.toString((System.currentTimeMillis() - 600_000) * 1000)));
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).readYourWrites(group)
                .shadowReadLimits(2, 100, Duration.ofMillis(200), Duration.ofSeconds(2)));
        String key = scope.key("product:8");
        db.put(key, Loaded.of("old", 5));
        redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "5", RedisLayout.ENTRY_DATA, "old"));
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Loader<String> slow = k -> {
            loading.countDown();
            release.await();
            return fromDb(k);
        };
        assertEquals("old", cache.namespace(ns, Codecs.utf8(), EVERY_HIT).get(key, slow));
        assertTrue(loading.await(10, TimeUnit.SECONDS), "the shadow read's first load started");
        long appliedUpTo = System.currentTimeMillis();
        redis.hset(watermark, Map.of("0", "200", "ts:0", Long.toString(appliedUpTo * 1000)));
        while (System.currentTimeMillis() <= appliedUpTo) {
            Thread.onSpinWait(); // the change commits after the moment the region applied up to
        }
        db.put(key, Loaded.of("new", 7)); // committed; its invalidation never applied, and the watermark stays
        release.countDown();
        Await.until("the shadow read's verdict", Duration.ofSeconds(20), () -> cache.shadowReadsPending() == 0);
        assertEquals(0, checks(ns, "stale"), "a change the region had not applied is not a confirmed stale entry");
        assertEquals(1, checks(ns, "undecided"), "the region never applied past the end of the first load: undecided");
    }

    /**
     * The steady scenario's run 1 (docs/benchmarks.md): under load the re-check's read of the applied
     * watermark timed out (the client's 500 ms command timeout) and the inspection took "no
     * watermark" for "nothing to wait for", confirming as stale entries whose invalidation was
     * still on its way. A watermark this cache was built to read that cannot be read, or that the
     * region withdrew (a restore), or that lacks a partition, shows nothing applied: no verdict.
     */
    @Test
    void aWatermarkThatCannotBeReadAtTheRecheckIsNoVerdict() throws Exception {
        assertNoVerdictWhenTheWatermarkGoes("shadow-unreadable", watermark -> {
            redis.del(watermark);
            redis.set(watermark, "not a hash"); // every HGETALL of it fails (WRONGTYPE), as a timed-out one does
        });
        assertNoVerdictWhenTheWatermarkGoes("shadow-withdrawn", watermark -> redis.hdel(watermark, "0", "ts:0", "h:0"));
        assertNoVerdictWhenTheWatermarkGoes("shadow-partition", watermark -> redis.hset(watermark, "partitions", "2"));
    }

    /**
     * An entry whose change is in flight (the database moved on, the invalidation has not arrived),
     * sampled while the region's watermark is ten minutes behind; {@code gone} makes the watermark
     * unknown while the first load runs. The inspection must end undecided, never stale.
     */
    private void assertNoVerdictWhenTheWatermarkGoes(String ns, java.util.function.Consumer<String> gone) throws Exception {
        String group = scope.key("group-" + ns);
        String watermark = io.lethe.schemas.redis.AppliedLsn.key(group);
        redis.hset(watermark, Map.of("partitions", "1", "0", "100", "ts:0", Long.toString((System.currentTimeMillis() - 600_000) * 1000)));
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).readYourWrites(group).shadowReadsHeal(false)
                .shadowReadLimits(2, 100, Duration.ofMillis(200), Duration.ofSeconds(2)));
        String key = scope.key(ns + ":1");
        redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "5", RedisLayout.ENTRY_DATA, "old"));
        db.put(key, Loaded.of("new", 7)); // committed; its invalidation is still on its way
        CountDownLatch loading = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Loader<String> held = k -> {
            loading.countDown();
            release.await();
            return fromDb(k);
        };
        assertEquals("old", cache.namespace(ns, Codecs.utf8(), EVERY_HIT).get(key, held));
        assertTrue(loading.await(10, TimeUnit.SECONDS), "the shadow read's first load started");
        gone.accept(watermark);
        release.countDown();
        Await.until("the shadow read's verdict", Duration.ofSeconds(20), () -> cache.shadowReadsPending() == 0);
        assertEquals(0, checks(ns, "stale"), ns + ": a watermark that shows nothing applied confirms nothing");
        assertEquals(1, checks(ns, "undecided"), ns + ": the region never showed the first load applied within maxGrace + margin");
        assertEquals("old", redis.hget(key, RedisLayout.ENTRY_DATA));
    }

    @Test
    void faultFreeEveryHitSampledMatches() throws Exception {
        String ns = "shadow-match";
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).shadowReadLimits(2, 10_000, Duration.ofMillis(200),
                Duration.ofSeconds(5)));
        CacheNamespace<String> products = cache.namespace(ns, Codecs.utf8(), EVERY_HIT.withNegativeTtl(Duration.ofMinutes(10)));
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String key = scope.key("product:m" + i);
            keys.add(key);
            db.put(key, i % 5 == 0 ? Loaded.notFound() : Loaded.of("value " + i, 100 + i));
        }
        keys.forEach(k -> products.get(k, this::fromDb)); // misses: filled (negative entries for the absent rows)
        int hits = 0;
        for (int round = 0; round < 10; round++) {
            for (String k : keys) {
                Loaded<String> row = fromDb(k);
                assertEquals(row.value(), products.get(k, this::fromDb));
                hits++;
                // one at a time, so none is dropped by the concurrency limit
                Await.until("the shadow read is finished", Duration.ofSeconds(10), () -> cache.shadowReadsPending() == 0);
            }
        }
        assertEquals(hits, checks(ns, "match"), "every sampled hit of a coherent cache matches");
        assertEquals(0, checks(ns, "stale") + checks(ns, "in-flight") + checks(ns, "converged") + checks(ns, "undecided")
                + checks(ns, "error") + checks(ns, "dropped"));
    }

    @Test
    void overTheLimitsSamplesAreDroppedAndTheHitNeverWaitsForTheInspection() throws Exception {
        // a rate of 1/s with room for ten at a time: the rate drops them
        assertOverTheLimit("shadow-rate", 10, 1);
        // a thousand a second, one at a time: the concurrency drops them
        assertOverTheLimit("shadow-concurrency", 1, 1000);
    }

    private void assertOverTheLimit(String ns, int concurrency, int maxPerSecond) throws Exception {
        LetheCache cache = cache(LetheCache.builder(stack.redisUri("us-east")).shadowReadLimits(concurrency, maxPerSecond,
                Duration.ofMillis(200), Duration.ofSeconds(5)));
        CacheNamespace<String> products = cache.namespace(ns, Codecs.utf8(), EVERY_HIT);
        String key = scope.key(ns + ":5");
        db.put(key, Loaded.of("value", 3));
        assertEquals("value", products.get(key, this::fromDb), "a miss (never sampled): filled");
        assertEquals(0, cache.shadowReadsPending());

        CountDownLatch inspecting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Loader<String> blocking = k -> {
            inspecting.countDown();
            release.await();
            return fromDb(k);
        };
        try {
            CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> products.get(key, blocking));
            assertEquals("value", first.get(5, TimeUnit.SECONDS), "the hit returns while its inspection's load is blocked");
            assertTrue(inspecting.await(5, TimeUnit.SECONDS), "the sampled hit was handed to the inspection");
            long t0 = System.nanoTime();
            for (int i = 0; i < 20; i++) {
                assertEquals("value", products.get(key, blocking));
            }
            long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(took < 5_000, "twenty hits took " + took + " ms: they never wait for an inspection");
            if (took < 900) {
                assertEquals(1, cache.shadowReadsPending(), "one inspection runs, blocked on its load");
                assertEquals(20, checks(ns, "dropped"), "samples over the limits are dropped, not queued");
            } else { // a slow machine: the rate may have admitted one more
                assertTrue(checks(ns, "dropped") >= 18, "samples over the limits are dropped, not queued: " + checks(ns, "dropped"));
            }
        } finally {
            release.countDown();
        }
        Await.until("the blocked inspections are finished", Duration.ofSeconds(10), () -> cache.shadowReadsPending() == 0);
        assertTrue(checks(ns, "match") >= 1);
        assertEquals(0, checks(ns, "stale"));
    }
}
