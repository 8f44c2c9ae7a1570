package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The region's sweep when its database does not answer: it counts the failures and waits, and the
 * region goes on applying, healthy (the sweep never holds the apply loop nor its health).
 */
@ExtendWith(LetheStackExtension.class)
class SweepOutageIT {
    @Test
    void aSweepWhoseDatabaseDoesNotAnswerCountsAndWaitsWhileTheRegionAppliesHealthy(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            // the fixture's source is a placeholder database nobody answers for: every sweep step fails on it
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", "sweep: { keys-per-second: 100 }")
                    .replace("user: lethe }", "user: lethe, reader-user: lethe_reader }"));
            assertTrue(config.apply().sweep().enabled());
            RedisCommands<String, String> redis = f.redis("us-east");
            redis.hset(p + "product:1", Map.of("v", "1", "d", "old"));
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east", registry, Clock.systemUTC())) {
                region.start();
                RegionFixture.await("the sweep to fail on the database twice (it retries)", Duration.ofSeconds(60),
                        () -> errors(registry, "database") >= 2);
                // a sentinel behind the failures: the loop applies while the sweep waits
                f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", p + "product:1", "5"));
                f.flush();
                RegionFixture.await("the invalidation applied", Duration.ofSeconds(60),
                        () -> redis.exists(p + "product:1") == 0 && redis.exists(RedisLayout.fenceKey(p + "product:1")) == 1);
                assertTrue(region.isRunning());
                assertFalse(region.isRetrying(), "the sweep's failures are not the region's");
                assertTrue(region.misconfigured().isEmpty(), region.misconfigured().toString());
                assertEquals(0, errors(registry, "redis"));
                assertEquals(0, registry.get(RegionMeterNames.SWEEP_KEYS).tag("result", "checked").counter().count());
            }
        }
    }

    private static double errors(SimpleMeterRegistry registry, String cause) {
        Counter c = registry.find(RegionMeterNames.SWEEP_ERRORS).tags("region", "us-east", "cause", cause).counter();
        return c == null ? 0 : c.count();
    }
}
