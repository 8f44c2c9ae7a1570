package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.ChildJvm;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The consumer process is killed (SIGKILL) while applying; a new one finishes the work. */
@ExtendWith(LetheStackExtension.class)
class ConsumerCrashIT {
    private static final int KEYS = 20_000;

    @Test
    void killedMidBatchThenRestartedEveryKeyIsInvalidated(LetheStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            String yaml = f.yaml(Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", "max-poll-records: 500");
            LetheConfig config = f.config(yaml);
            Path file = RegionFixture.write(dir, yaml);
            List<String> keys = RegionFixture.keys(p + "product:", KEYS);
            List<String> newer = keys.subList(0, 50);
            seed(stack.redisUri("us-east"), keys, newer);
            String topic = config.topics().invalidations("us-east");
            for (String k : keys) {
                f.send(topic, RegionFixture.key("product", k, "100"));
            }
            f.flush();

            RedisCommands<String, String> redis = f.redis("us-east");
            List<String> jvm = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");
            try (ChildJvm first = ChildJvm.start("region-1", RegionProcessMain.class.getName(), List.of(file.toString(), "us-east"), jvm,
                    dir.resolve("1.log"))) {
                RegionFixture.await("the first consumer applies some batches", Duration.ofSeconds(90),
                        () -> redis.exists(RedisLayout.fenceKey(keys.get(keys.size() / 4))) == 1
                                || redis.exists(RedisLayout.fenceKey(keys.get(3 * keys.size() / 4))) == 1);
                first.kill();
            }
            long fencesAtKill = keys.stream().filter(k -> redis.exists(RedisLayout.fenceKey(k)) == 1).count();
            long committed = f.committed(RegionConsumerService.groupId(config, "us-east"), topic);
            assertTrue(fencesAtKill < KEYS && committed < KEYS,
                    "killed mid-stream: " + fencesAtKill + " fences, " + committed + " committed of " + KEYS);
            assertTrue(committed <= fencesAtKill,
                    "offsets never pass unapplied work: committed " + committed + " > applied " + fencesAtKill);

            try (ChildJvm second = ChildJvm.start("region-2", RegionProcessMain.class.getName(), List.of(file.toString(), "us-east"), jvm,
                    dir.resolve("2.log"))) {
                RegionFixture.await("the restarted consumer finishes", Duration.ofSeconds(120),
                        () -> keys.stream().allMatch(k -> redis.exists(RedisLayout.fenceKey(k)) == 1));
                List<String> survivors = keys.stream().filter(k -> redis.exists(k) == 1).toList();
                assertEquals(newer, survivors, "only the entries newer than the invalidation remain");
                newer.forEach(k -> assertEquals("200", redis.hget(k, "v")));
            }
        }
    }

    private static void seed(String uri, List<String> keys, List<String> newer) throws Exception {
        RedisClient client = RedisClient.create();
        try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(uri))) {
            RedisAsyncCommands<String, String> async = c.async();
            List<RedisFuture<Long>> acks = new ArrayList<>();
            for (String k : keys) {
                acks.add(async.hset(k, Map.of("v", newer.contains(k) ? "200" : "1", "d", "x")));
            }
            for (RedisFuture<Long> ack : acks) {
                ack.get(30, TimeUnit.SECONDS);
            }
        } finally {
            client.shutdown();
        }
    }
}
