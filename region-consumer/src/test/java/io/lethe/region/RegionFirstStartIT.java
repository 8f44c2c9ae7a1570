package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A region's first start (the steady scenario's run 1, hypothesis c): the pipeline's first
 * invalidations may reach the region's topic before its consumer joined its group. A group without
 * committed offsets must read every partition from the log's start ({@code auto.offset.reset=none},
 * {@code RestoreReplay.startFromLogStart}), never from "latest", or the entries those
 * invalidations were for stay until their rows change again.
 */
@ExtendWith(LetheStackExtension.class)
class RegionFirstStartIT {
    private static final int KEYS = 30;

    @Test
    void invalidationsWrittenBeforeTheRegionFirstJoinedAreApplied(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
            RedisCommands<String, String> redis = f.redis("us-east");
            // readers filled these before Lethe's region ever ran; the changes were committed and their
            // invalidations written to the region's topic (every one of its 3 partitions) before it joins
            List<String> keys = RegionFixture.keys(p + "product:", KEYS);
            keys.forEach(k -> redis.hset(k, Map.of("v", "0", "d", "filled before the change")));
            for (int i = 0; i < KEYS; i++) {
                f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", keys.get(i), Long.toString(100 + i)));
            }
            f.flush();
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(),
                    Clock.systemUTC())) {
                region.start();
                RegionFixture.await("every invalidation sent before the first start is applied", Duration.ofSeconds(60),
                        () -> keys.stream().allMatch(k -> redis.exists(RedisLayout.fenceKey(k)) == 1));
            }
            assertEquals(0, keys.stream().filter(k -> redis.exists(k) == 1).count(), "no entry filled before the changes survived");
        }
    }
}
