package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A region configured with {@code redis-sentinel://} finds its master through a real Sentinel and applies to it. */
@ExtendWith(LetheStackExtension.class)
class RedisSentinelIT {

    @Test
    void aRegionAppliesToTheMasterItsSentinelNames(EmbeddedStack stack, TestScope scope) throws Exception {
        String master = "lethe-" + scope.id();
        int masterPort = stack.startExtraRedis("sentinel-master-" + scope.id(), List.of());
        int sentinelPort = stack.startSentinel(master, masterPort);
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: \"redis-sentinel://127.0.0.1:" + sentinelPort + "#" + master + "\" }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
            RedisClient plain = RedisClient.create();
            try (StatefulRedisConnection<String, String> check = plain.connect(RedisURI.create("redis://127.0.0.1:" + masterPort));
                 RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(), Clock.systemUTC())) {
                String key = p + "product:1";
                check.sync().hset(key, Map.of("v", "1", "d", "old"));
                region.start();
                f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", key, "5"));
                f.flush();
                RegionFixture.await("the invalidation applied on the sentinel's master", Duration.ofSeconds(30),
                        () -> check.sync().exists(key) == 0 && "5".equals(check.sync().hget(RedisLayout.fenceKey(key), "v")));
                assertTrue(region.isRunning());
            } finally {
                plain.shutdown();
            }
        }
    }
}
