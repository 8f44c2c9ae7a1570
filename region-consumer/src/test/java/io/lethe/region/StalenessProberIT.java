package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.region.apply.StalenessProber;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The staleness prober: a healthy region checks coherent, a region whose applier is stopped does not. */
@ExtendWith(LetheStackExtension.class)
class StalenessProberIT {
    private static final int KEYS = 20;

    @Test
    void aHealthyRegionIsCoherentAndAStoppedOneIsNotAtOneAndTenSeconds(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(
                    // eu-west subscribes to fewer namespaces, so it reads a topic of its own: the warm-up of
                    // us-east below is not eu-west's to see
                    Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }",
                            "eu-west", "{ redis: " + stack.redisUri("eu-west") + ", namespaces: [product] }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }\n"
                            + "other: { table: public.others, keys: [\"" + p + "other:{id}\"] }",
                    "prober: { sample-every: 1, windows: [1s, 10s] }"));
            List<String> keys = RegionFixture.keys(p + "product:", KEYS);
            for (String region : List.of("us-east", "eu-west")) {
                RedisCommands<String, String> r = f.redis(region);
                keys.forEach(k -> r.hset(k, Map.of("v", "1", "d", "old")));
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService east = new RegionConsumerService(config, "us-east", registry, Clock.systemUTC());
                    StalenessProber westProber = new StalenessProber(config, "eu-west", registry, Clock.systemUTC())) {
                east.start(); // applier and its prober
                westProber.start(); // eu-west: a prober, but its applier is stopped
                // the probers start at "latest": traffic sent before they have a position is not theirs to see
                awaitSampling(registry, "us-east");
                awaitSampling(registry, "eu-west");
                String warm = p + "product:warm-up"; // a key of the namespace: regions refuse others (foreign-key)
                f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", warm, "100"));
                f.flush();
                RedisCommands<String, String> eastRedis = f.redis("us-east");
                RegionFixture.await("the applier is warm", Duration.ofSeconds(60), () -> eastRedis.exists(RedisLayout.fenceKey(warm)) == 1);

                for (String k : keys) {
                    f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", k, "100"));
                    f.send(config.topics().invalidations("eu-west"), RegionFixture.key("product", k, "100"));
                }
                f.flush();
                for (String window : List.of("1s", "10s")) {
                    RegionFixture.await("us-east's " + window + " checks", Duration.ofSeconds(60),
                            () -> count(registry, "us-east", window, "coherent") + count(registry, "us-east", window, "incoherent") >= KEYS
                                    + 1);
                    RegionFixture.await("eu-west's " + window + " checks", Duration.ofSeconds(60),
                            () -> count(registry, "eu-west", window, "incoherent")
                                    + count(registry, "eu-west", window, "coherent") >= KEYS);
                    assertEquals(0, count(registry, "us-east", window, "incoherent"), "healthy region at " + window);
                    assertEquals(KEYS, count(registry, "eu-west", window, "incoherent"), "stopped region at " + window);
                    assertEquals(1.0, registry.get(StalenessProber.RATIO).tag("region", "us-east").tag("window", window).gauge().value());
                    assertEquals(0.0, registry.get(StalenessProber.RATIO).tag("region", "eu-west").tag("window", window).gauge().value());
                }
            }
        }
    }

    /**
     * Hypothesis (d) of the steady scenario's run 1: a check that runs after the invalidation's fence
     * expired, of an entry a reader filled after the invalidation, with no earlier check that saw the
     * fence move (the 1 s check came while the region was behind, or found the key absent), was
     * counted incoherent: the prober took an expired fence for an invalidation never applied. The
     * region's applied watermark past the event's commit shows it applied; without that watermark
     * (or below it) the check stays incoherent.
     */
    @Test
    void anExpiredFenceOfAnAppliedInvalidationIsNotCountedIncoherent(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }",
                    "prober: { sample-every: 1, windows: [3s] }"));
            RedisCommands<String, String> redis = f.redis("us-east");
            redis.scriptLoad(LuaScript.INVALIDATE.source());
            String applied = p + "product:applied";
            String behind = p + "product:behind";
            // the region applied both invalidations (fences of 300 ms), and readers filled both keys after them
            for (String key : List.of(applied, behind)) {
                redis.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER,
                        new String[] {key, RedisLayout.fenceKey(key)}, "1000", "300", "7");
                redis.hset(key, Map.of("v", "0", "d", "filled after the invalidation"));
            }
            RegionFixture.await("both fences expired", Duration.ofSeconds(30),
                    () -> redis.exists(RedisLayout.fenceKey(applied), RedisLayout.fenceKey(behind)) == 0);
            // the region's watermark (every partition, one history) is past the first event's commit, not the second's
            String group = RegionConsumerService.groupId(config, "us-east");
            redis.hset(AppliedLsn.key(group), Map.of("partitions", "3", "0", "5000", "1", "5000", "2", "5000",
                    "h:0", "h1", "h:1", "h1", "h:2", "h1"));
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (StalenessProber prober = new StalenessProber(config, "us-east", registry, Clock.systemUTC())) {
                prober.start();
                awaitSampling(registry, "us-east");
                f.send(config.topics().invalidations("us-east"), committedAt("product", applied, 1000, 4000));
                f.send(config.topics().invalidations("us-east"), committedAt("product", behind, 1000, 6000));
                f.flush();
                RegionFixture.await("both 3s checks", Duration.ofSeconds(60),
                        () -> count(registry, "us-east", "3s", "coherent") + count(registry, "us-east", "3s", "incoherent") >= 2);
                assertEquals(1, count(registry, "us-east", "3s", "coherent"),
                        "the watermark is past its commit: applied, its fence expired since, the entry was filled after it");
                assertEquals(1, count(registry, "us-east", "3s", "incoherent"),
                        "committed past the watermark: nothing shows it applied, the entry may be older than it");
            }
        }
    }

    /** An invalidation at {@code lsn} whose transaction committed at {@code commitLsn}, as capture and streams send it. */
    private static InvalidationEvent committedAt(String namespace, String key, long lsn, long commitLsn) {
        long now = RegionFixture.now();
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, UUID.randomUUID().toString(),
                namespace, Scope.ROW, key, null, Action.DELETE, null, Long.toString(lsn), lsn, 1L, now, now, now,
                null, Op.UPDATE, null, null, commitLsn);
    }

    private static double count(MeterRegistry registry, String region, String window, String result) {
        Counter c = registry.find(StalenessProber.CHECKS).tag("region", region).tag("window", window).tag("result", result).counter();
        return c == null ? 0 : c.count();
    }

    private static void awaitSampling(MeterRegistry registry, String region) throws InterruptedException {
        RegionFixture.await(region + "'s prober reads from a known position", Duration.ofSeconds(60),
                () -> registry.get(StalenessProber.SAMPLING).tag("region", region).gauge().value() == 1.0);
    }
}
