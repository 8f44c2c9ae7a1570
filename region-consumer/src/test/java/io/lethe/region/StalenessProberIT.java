package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.region.probe.StalenessProber;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
                east.start();           // applier and its prober
                westProber.start();     // eu-west: a prober, but its applier is stopped
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
                            () -> count(registry, "us-east", window, "coherent") + count(registry, "us-east", window, "incoherent") >= KEYS + 1);
                    RegionFixture.await("eu-west's " + window + " checks", Duration.ofSeconds(60),
                            () -> count(registry, "eu-west", window, "incoherent") + count(registry, "eu-west", window, "coherent") >= KEYS);
                    assertEquals(0, count(registry, "us-east", window, "incoherent"), "healthy region at " + window);
                    assertEquals(KEYS, count(registry, "eu-west", window, "incoherent"), "stopped region at " + window);
                    assertEquals(1.0, registry.get(StalenessProber.RATIO).tag("region", "us-east").tag("window", window).gauge().value());
                    assertEquals(0.0, registry.get(StalenessProber.RATIO).tag("region", "eu-west").tag("window", window).gauge().value());
                }
            }
        }
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
