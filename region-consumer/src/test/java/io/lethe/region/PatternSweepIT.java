package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pattern invalidation's sweep runs beside the apply loop: other invalidations go on being
 * applied meanwhile, the applied watermark and the offsets wait for the sweep, and a reader's
 * fill racing the sweep is undone. The sweep is made long by its rate limit (25 keys a second
 * over 500 matching keys: about 20 s), so the sentinels below land well inside it.
 */
@ExtendWith(LetheStackExtension.class)
class PatternSweepIT {
    private static final int MATCHING = 500;

    private static String namespaces(String p) {
        return "product: { table: public.products, keys: [\"" + p + "product:{id}\"], patterns: [\"" + p + "search:*\"] }";
    }

    private static final String SLOW_SWEEPS = "pattern-scan-count: 10\npattern-keys-per-second: 25";

    @Test
    void keyInvalidationsGoOnWhileALongSweepRunsAndTheWatermarkWaitsForIt(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f
                    .config(f.yaml(Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }"), namespaces(p), SLOW_SWEEPS));
            RedisCommands<String, String> redis = f.redis("us-east");
            List<String> search = RegionFixture.keys(p + "search:", MATCHING);
            search.forEach(k -> redis.hset(k, Map.of("v", "0", "d", "results")));
            String topic = config.topics().invalidations("us-east");
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east", registry, Clock.systemUTC())) {
                region.start();
                f.sendWatermark(topic, 0, 10);
                f.flush();
                RegionFixture.await("the first heartbeat applied", Duration.ofSeconds(60),
                        () -> region.metrics().watermarks().appliedLsn(0, 1).equals(OptionalLong.of(10)));

                f.send(topic, 0, System.currentTimeMillis(),
                        RegionFixture.pattern("product", Scope.PATTERN, p + "search:*", "50", Op.UPDATE));
                f.flush();
                // what follows comes in later batches than the pattern (a batch applies its keys before its patterns)
                RegionFixture.await("the sweep under way", Duration.ofSeconds(60),
                        () -> search.stream().anyMatch(k -> redis.exists(k) == 0));
                String sentinel = p + "product:sentinel";
                f.send(topic, 0, System.currentTimeMillis(), RegionFixture.key("product", sentinel, "60"));
                f.sendWatermark(topic, 0, 70);
                String behindTheHeartbeat = p + "product:behind-the-heartbeat";
                f.send(topic, 0, System.currentTimeMillis(), RegionFixture.key("product", behindTheHeartbeat, "80"));
                f.flush();

                RegionFixture.await("the invalidations behind the pattern's", Duration.ofSeconds(120),
                        () -> redis.exists(RedisLayout.fenceKey(sentinel)) == 1
                                && redis.exists(RedisLayout.fenceKey(behindTheHeartbeat)) == 1);
                long left = search.stream().filter(k -> redis.exists(k) == 1).count();
                assertTrue(left > 0,
                        "the invalidations behind a pattern's are applied before its sweep finished (it had deleted every match)");
                assertEquals(OptionalLong.of(10), region.metrics().watermarks().appliedLsn(0, 1),
                        "the heartbeat behind a pattern does not raise the applied watermark while its sweep runs (" + left
                                + " matches left)");
                assertTrue(registry.get("lethe.region.pattern.backlog").gauge().value() >= 1,
                        "the sweep counts in the backlog while it runs");

                RegionFixture.await("every match deleted", Duration.ofSeconds(120),
                        () -> search.stream().allMatch(k -> redis.exists(k) == 0));
                RegionFixture.await("the heartbeat behind the pattern applied once its sweep is done", Duration.ofSeconds(60),
                        () -> region.metrics().watermarks().appliedLsn(0, 1).equals(OptionalLong.of(70)));
                RegionFixture.await("the backlog empty", Duration.ofSeconds(10),
                        () -> registry.get("lethe.region.pattern.backlog").gauge().value() == 0);
                assertEquals(1, registry.get("lethe.region.pattern.duration").timer().count(), "one sweep timed");
            }
        }
    }

    @Test
    void aRegionStoppedMidSweepCommitsNothingPastThePatternAndTheNextOneSweepsAgain(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            Map<String, String> regions = Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }");
            LetheConfig slow = f.config(f.yaml(regions, namespaces(p), SLOW_SWEEPS));
            RedisCommands<String, String> redis = f.redis("us-east");
            List<String> search = RegionFixture.keys(p + "search:", MATCHING);
            search.forEach(k -> redis.hset(k, Map.of("v", "0", "d", "results")));
            String topic = slow.topics().invalidations("us-east");
            String group = RegionConsumerService.groupId(slow, "us-east");
            try (RegionConsumerService region = new RegionConsumerService(slow, "us-east", new SimpleMeterRegistry(), Clock.systemUTC())) {
                region.start();
                String first = p + "product:first";
                f.send(topic, 0, System.currentTimeMillis(), RegionFixture.key("product", first, "40")); // offset 0
                f.flush();
                RegionFixture.await("the first key's offset committed", Duration.ofSeconds(60), () -> {
                    try {
                        return f.committed(group, topic) == 1;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                f.send(topic, 0, System.currentTimeMillis(),
                        RegionFixture.pattern("product", Scope.PATTERN, p + "search:*", "50", Op.UPDATE)); // 1
                f.flush();
                RegionFixture.await("the sweep under way", Duration.ofSeconds(60),
                        () -> search.stream().anyMatch(k -> redis.exists(k) == 0));
                String behind = p + "product:behind";
                f.send(topic, 0, System.currentTimeMillis(), RegionFixture.key("product", behind, "60")); // 2
                f.flush();
                RegionFixture.await("the key behind the pattern applied", Duration.ofSeconds(60),
                        () -> redis.exists(RedisLayout.fenceKey(behind)) == 1);
            }
            assertTrue(search.stream().anyMatch(k -> redis.exists(k) == 1), "stopped before its sweep was done");
            assertEquals(1, f.committed(group, topic), "nothing past the pattern is committed while its sweep is not done");

            LetheConfig fast = f.config(f.yaml(regions, namespaces(p), ""));
            try (RegionConsumerService region = new RegionConsumerService(fast, "us-east", new SimpleMeterRegistry(), Clock.systemUTC())) {
                region.start();
                RegionFixture.await("the next consumer sweeps again", Duration.ofSeconds(60),
                        () -> search.stream().allMatch(k -> redis.exists(k) == 0));
                RegionFixture.await("and commits past the pattern", Duration.ofSeconds(60), () -> {
                    try {
                        return f.committed(group, topic) == 3;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            }
        }
    }

    @Test
    void aFillRacingARunningSweepIsUndone(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope);
                LetheCache cache = LetheCache.builder(stack.redisUri("us-east")).build()) {
            String p = scope.keyPrefix();
            LetheConfig config = f
                    .config(f.yaml(Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }"), namespaces(p), SLOW_SWEEPS));
            RedisCommands<String, String> redis = f.redis("us-east");
            List<String> search = RegionFixture.keys(p + "search:", MATCHING);
            search.forEach(k -> redis.hset(k, Map.of("v", "0", "d", "results")));
            String raced = p + "search:raced";
            CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), Policy.eventual().withShadowReads(0));
            String epochKey = RedisLayout.epochKey("product");
            String epochBefore = Objects.requireNonNullElse(redis.get(epochKey), "0");
            CountDownLatch loading = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(),
                    Clock.systemUTC())) {
                region.start();
                // the reader misses before the change and loads what the database held before it
                CompletableFuture<String> read = CompletableFuture.supplyAsync(() -> ns.get(raced, k -> {
                    loading.countDown();
                    try {
                        assertTrue(release.await(120, TimeUnit.SECONDS), "released");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return Loaded.of("before-the-change");
                }));
                assertTrue(loading.await(30, TimeUnit.SECONDS), "the reader missed and is loading");
                String topic = config.topics().invalidations("us-east");
                f.send(topic, RegionFixture.pattern("product", Scope.PATTERN, p + "search:*", "50", Op.UPDATE));
                f.flush();
                RegionFixture.await("the sweep under way", Duration.ofSeconds(60),
                        () -> !epochBefore.equals(Objects.requireNonNullElse(redis.get(epochKey), "0"))
                                && search.stream().anyMatch(k -> redis.exists(k) == 0));
                // the sweep has passed where the raced key would be (it was absent): the fill lands after
                release.countDown();
                assertEquals("before-the-change", read.get(60, TimeUnit.SECONDS), "the reader gets what it loaded");
                assertTrue(search.stream().anyMatch(k -> redis.exists(k) == 1), "the sweep still runs");
                assertEquals(0, redis.exists(raced), "a fill racing a running sweep is undone: " + redis.hgetall(raced));
                RegionFixture.await("every match deleted", Duration.ofSeconds(120),
                        () -> search.stream().allMatch(k -> redis.exists(k) == 0));
                assertEquals(0, redis.exists(raced), "nor left behind after the sweep");
            }
        }
    }
}
