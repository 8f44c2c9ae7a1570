package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** One region's Redis stops answering while invalidations flow. */
@ExtendWith(LetheStackExtension.class)
class RedisOutageIT {
    private static final int KEYS = 300;

    @Test
    void aPausedRedisStallsOnlyItsRegionAndNothingIsCommittedOrLost(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(
                    Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }", "eu-west",
                            "{ redis: " + stack.redisUri("eu-west") + " }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
            List<String> keys = RegionFixture.keys(p + "product:", KEYS);
            for (String region : List.of("us-east", "eu-west")) {
                RedisCommands<String, String> r = f.redis(region);
                keys.forEach(k -> r.hset(k, Map.of("v", "1", "d", "old")));
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService east = new RegionConsumerService(config, "us-east", registry, Clock.systemUTC());
                    RegionConsumerService west = new RegionConsumerService(config, "eu-west", registry, Clock.systemUTC())) {
                east.start();
                west.start();
                stack.pauseRedis("eu-west");
                try {
                    for (String k : keys) {
                        f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", k, "100"));
                        f.send(config.topics().invalidations("eu-west"), RegionFixture.key("product", k, "100"));
                    }
                    f.flush();
                    RedisCommands<String, String> eastRedis = f.redis("us-east");
                    RegionFixture.await("us-east applies everything", Duration.ofSeconds(60),
                            () -> keys.stream().allMatch(k -> eastRedis.exists(RedisLayout.fenceKey(k)) == 1));
                    assertEquals(0, eastRedis.exists(keys.toArray(String[]::new)), "us-east deleted every old entry");

                    RegionFixture.await("eu-west notices its Redis is down", Duration.ofSeconds(30), west::isRetrying);
                    String westTopic = config.topics().invalidations("eu-west");
                    String westGroup = RegionConsumerService.groupId(config, "eu-west");
                    RegionFixture.await("eu-west's lag is visible", Duration.ofSeconds(30),
                            () -> registry.get(RegionMeterNames.LAG_RECORDS).tag("region", "eu-west").gauge().value() > 0);
                    assertEquals(0, f.committed(westGroup, westTopic), "nothing committed past unapplied work");
                    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
                        ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(westGroup)).all().get().get(westGroup);
                        assertEquals(1, group.members().size(), "the retrying consumer stays in its group");
                    }
                    assertTrue(registry.get(RegionMeterNames.RETRIES).tag("region", "eu-west").counter().count() > 0);
                } finally {
                    stack.resumeRedis("eu-west");
                }
                RedisCommands<String, String> westRedis = f.redis("eu-west");
                RegionFixture.await("eu-west catches up", Duration.ofSeconds(60),
                        () -> keys.stream().allMatch(k -> westRedis.exists(RedisLayout.fenceKey(k)) == 1));
                assertEquals(0, westRedis.exists(keys.toArray(String[]::new)), "every invalidation applied after the outage");
                long end = f.endOffsets(config.topics().invalidations("eu-west"), 3);
                RegionFixture.await("eu-west commits what it applied", Duration.ofSeconds(30), () -> {
                    try {
                        return f.committed(RegionConsumerService.groupId(config, "eu-west"),
                                config.topics().invalidations("eu-west")) == end;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertTrue(east.isRunning() && west.isRunning());
            }
        }
    }
}
