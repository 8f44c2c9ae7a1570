package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.TopicsNotReadyException;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code kafka.create-topics: false} (a Strimzi or otherwise locked-down cluster): a region consumer
 * creates no topic; it checks at start that the topics it uses exist with what Lethe needs, and
 * refuses to start with one message naming each topic that is missing or wrong and what is
 * expected. Once an administrator fixes them, it starts and applies.
 */
@ExtendWith(LetheStackExtension.class)
class LockedDownTopicsIT {

    @Test
    void refusesMissingOrWrongTopicsNamingEachThenStartsOnceTheyAreRight(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope);
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            String p = scope.keyPrefix();
            String yaml = f
                    .yaml(Map.of("us-east", "{ redis: \"" + stack.redisUri("us-east") + "\" }"),
                            "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", "")
                    .replace("partitions: 3 }", "partitions: 3, create-topics: false }");
            LetheConfig config = ConfigLoader.parse(scope.id() + ".yml", yaml, System::getenv);
            String regionTopic = config.topics().invalidations("us-east");
            String dlq = config.topics().dlq();
            // the region topic with too few partitions and compacted; the DLQ not there at all
            admin.createTopics(List.of(new NewTopic(regionTopic, 1, (short) 1).configs(Map.of("cleanup.policy", "compact"))))
                    .all().get(30, TimeUnit.SECONDS);

            try (RegionConsumerService region = new RegionConsumerService(config, "us-east",
                    new SimpleMeterRegistry(), Clock.systemUTC())) {
                TopicsNotReadyException refused = assertThrows(TopicsNotReadyException.class, region::start);
                String message = refused.getMessage();
                assertTrue(message.contains("kafka.create-topics is false in " + scope.id() + ".yml"), message);
                assertTrue(message.contains(regionTopic + " has 1 partition(s), expected at least 3 (kafka.partitions)"), message);
                assertTrue(message.contains("cleanup.policy=compact, expected delete"), message);
                assertTrue(message.contains(dlq + " is missing (expected partitions 3"), message);
                assertTrue(message.contains("lethe topics --print"), message);
            }
            assertFalse(admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(dlq), "the region created the DLQ");

            // the administrator puts them right
            admin.createPartitions(Map.of(regionTopic, NewPartitions.increaseTo(3))).all().get(30, TimeUnit.SECONDS);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, regionTopic), List.of(
                    new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.SET)))).all()
                    .get(30, TimeUnit.SECONDS);
            admin.createTopics(List.of(new NewTopic(dlq, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);

            RedisCommands<String, String> redis = f.redis("us-east");
            String key = p + "product:1";
            redis.hset(key, Map.of("v", "1", "d", "old"));
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east",
                    new SimpleMeterRegistry(), Clock.systemUTC())) {
                region.start();
                f.send(regionTopic, RegionFixture.key("product", key, "5"));
                f.flush();
                RegionFixture.await("the invalidation applied", Duration.ofSeconds(30), () -> redis.exists(key) == 0);
                assertTrue(region.isRunning(), "region us-east stopped");
            }
            assertEquals(3, admin.describeTopics(List.of(dlq)).allTopicNames().get(30, TimeUnit.SECONDS).get(dlq).partitions().size());
        }
    }
}
