package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.region.apply.Restore;
import io.lethe.region.apply.RestoreGuard;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A region's Redis restored from an older snapshot (issue 27, items 1 and 2): the restore is
 * replayed from the checkpoint the snapshot carries whether the consumer was running or not, for
 * partitions it owns now or gets later, and no commit writes a checkpoint into a server whose
 * identity was not verified in the same step.
 *
 * <p>Records are produced with a timestamp an hour old, so the fence-TTL window of a replay
 * covers none of them: only the restored checkpoint can bring them back.
 */
@ExtendWith(LetheStackExtension.class)
class RedisRestoreIT {
    private static final String REGION = "us-east";
    private static final Set<Integer> ALL = Set.of(0, 1, 2);
    private static final long OLD = System.currentTimeMillis() - 3_600_000;

    @Test
    void aRestoreDoneWhileTheConsumerWasDownIsReplayedFromTheRestoredCheckpoint(EmbeddedStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of(REGION, "{ redis: " + stack.redisUri(REGION) + " }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
            String topic = config.topics().invalidations(REGION);
            String checkpoint = RedisLayout.checkpointKey(RegionConsumerService.groupId(config, REGION));
            var redis = f.redis(REGION);
            String key = p + "product:1";
            redis.hset(key, Map.of("v", "1", "d", "old"));
            try (RegionConsumerService first = service(config)) {
                first.start();
                f.send(topic, 0, OLD, RegionFixture.key("product", p + "product:0", "3"));
                f.flush();
                RegionFixture.await("partition 0 checkpointed at offset 1", Duration.ofSeconds(60),
                        () -> "1".equals(redis.hget(checkpoint, "0")));
                redis.save();
                f.send(topic, 0, OLD, RegionFixture.key("product", key, "5"));
                f.flush();
                RegionFixture.await("the invalidation applied and checkpointed", Duration.ofSeconds(30),
                        () -> redis.exists(key) == 0 && "2".equals(redis.hget(checkpoint, "0")));
            }
            stack.crashRedis(REGION, List.of());
            assertEquals("old", redis.hget(key, "d"), "the snapshot brought the old value back");
            assertEquals("1", redis.hget(checkpoint, "0"), "and its checkpoint");
            // the group's partitions are held by another member while the new consumer starts and
            // checks Redis (its INFO calls are the sentinel): it gets them only later, as after a
            // rebalance, or a slow first assignment
            var holder = holder(f, config);
            try (RegionConsumerService second = service(config)) {
                long infoCalls = infoCalls(redis);
                second.start();
                RegionFixture.await("the new consumer checking Redis before it owns any partition", Duration.ofSeconds(30),
                        () -> infoCalls(redis) >= infoCalls + 3);
                holder.close(Duration.ofSeconds(5));
                RegionFixture.await("the restored old value deleted by a consumer started after the restore", Duration.ofSeconds(30),
                        () -> redis.exists(key) == 0);
                assertTrue(second.isRunning());
            } finally {
                holder.close(Duration.ZERO);
            }
        }
    }

    @Test
    void aRestoreFromASnapshotOlderThanAnyCheckpointWhileTheConsumerWasDownIsInvalidatedWholesale(EmbeddedStack stack, TestScope scope)
            throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = standalone(f, stack, scope);
            String topic = config.topics().invalidations(REGION);
            String checkpoint = RedisLayout.checkpointKey(RegionConsumerService.groupId(config, REGION));
            var redis = f.redis(REGION);
            String key = p + "product:1";
            redis.hset(key, Map.of("v", "1", "d", "old"));
            redis.save(); // before this group ever wrote a checkpoint
            try (RegionConsumerService first = service(config)) {
                first.start();
                f.send(topic, 0, OLD, RegionFixture.key("product", key, "5"));
                f.flush();
                RegionFixture.await("the invalidation applied and checkpointed", Duration.ofSeconds(60),
                        () -> redis.exists(key) == 0 && "1".equals(redis.hget(checkpoint, "0")));
            }
            stack.crashRedis(REGION, List.of());
            assertEquals("old", redis.hget(key, "d"), "the snapshot brought the old value back");
            assertEquals(0, redis.exists(checkpoint), "and no checkpoint");
            try (RegionConsumerService second = service(config)) {
                second.start();
                RegionFixture.await("the restored old value deleted: data of unknown position in a Redis the group applied to before",
                        Duration.ofSeconds(30), () -> redis.exists(key) == 0);
            }
        }
    }

    @Test
    void aCommitRacingTheDetectionDoesNotOverwriteTheRestoredCheckpoint(EmbeddedStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            LetheConfig config = standalone(f, stack, scope);
            String group = RegionConsumerService.groupId(config, REGION);
            String checkpoint = RedisLayout.checkpointKey(group);
            var redis = f.redis(REGION);
            try (RegionRedis regionRedis = new RegionRedis(config.region(REGION), 1, Duration.ofSeconds(2))) {
                RestoreGuard guard = new RestoreGuard(regionRedis, group);
                assertTrue(guard.check(ALL).isEmpty(), "a first start");
                guard.checkpoint(Map.of(0, 10L, 1, 10L, 2, 10L));
                redis.save();
                guard.checkpoint(Map.of(0, 20L, 1, 20L, 2, 20L));
                stack.crashRedis(REGION, List.of());
                RegionFixture.await("the restored Redis answers", Duration.ofSeconds(30), regionRedis::ping);
                commitRacing(guard, Map.of(0, 30L, 1, 30L, 2, 30L));
                assertEquals("10", redis.hget(checkpoint, "0"),
                        "a commit landing in the restored server before the restore is noticed overwrote the checkpoint the snapshot carried");
                // the sibling: the applied watermark readers trust for read-your-writes
                String watermark = AppliedLsn.key(group);
                assertTrue(!guard.writeVerified(watermark, Map.of("0", "123")) && redis.hget(watermark, "0") == null,
                        "an applied watermark was written into the restored server before the restore was replayed");
                Optional<Restore> restore = guard.check(ALL);
                assertTrue(restore.isPresent(), "the restore is noticed");
                assertEquals(Map.of(0, 10L, 1, 10L, 2, 10L), restore.get().checkpoint(), "and replayed from the restored checkpoint");
            }
        }
    }

    /**
     * A region moved to another Kafka cluster under the same topic name, then its Redis restored from a
     * snapshot taken before the move: the checkpoint the snapshot carries holds the old cluster's offsets,
     * which say nothing about the new cluster's log. It is not replayed from: the data's position is
     * unknown, and a Redis holding keys is invalidated wholesale.
     */
    @Test
    void aRestoredCheckpointOfAnotherKafkaClusterIsNoPosition(EmbeddedStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            LetheConfig config = standalone(f, stack, scope);
            String group = RegionConsumerService.groupId(config, REGION);
            String checkpoint = RedisLayout.checkpointKey(group);
            var redis = f.redis(REGION);
            try (RegionRedis regionRedis = new RegionRedis(config.region(REGION), 1, Duration.ofSeconds(2))) {
                RestoreGuard guard = new RestoreGuard(regionRedis, group);
                guard.cluster("cluster-primary");
                assertTrue(guard.check(ALL).isEmpty(), "a first start");
                guard.checkpoint(Map.of(0, 500L, 1, 500L, 2, 500L));
                assertEquals("cluster-primary", redis.hget(checkpoint, RestoreGuard.CLUSTER), "the checkpoint records its cluster");
                redis.set(scope.id() + ":entry", "cached");
                redis.save();
                // moved onto the region's own cluster: the first commit there starts the checkpoint afresh
                RestoreGuard moved = new RestoreGuard(regionRedis, group);
                moved.cluster("cluster-eu-west");
                assertTrue(moved.check(Set.of(0)).isEmpty(), "the same server: nothing restored");
                moved.checkpoint(Map.of(0, 7L));
                assertEquals(Map.of("0", "7", "run_id:0", redis.hget(checkpoint, "run_id"), "run_id", redis.hget(checkpoint, "run_id"),
                        RestoreGuard.CLUSTER, "cluster-eu-west"), redis.hgetall(checkpoint),
                        "no offset of the old cluster's log stays beside the new cluster's");
                stack.crashRedis(REGION, List.of());
                RegionFixture.await("the restored Redis answers", Duration.ofSeconds(30), regionRedis::ping);
                assertEquals("cluster-primary", redis.hget(checkpoint, RestoreGuard.CLUSTER),
                        "the snapshot's checkpoint is the old cluster's");
                Optional<Restore> restore = moved.check(ALL);
                assertTrue(restore.isPresent(), "the restore is noticed");
                assertEquals(Map.of(), restore.get().checkpoint(), "no replay from another cluster's offsets");
                assertTrue(restore.get().wholesale(), "the data's position is unknown: a wholesale invalidation");
            }
        }
    }

    @Test
    void aPartitionAssignedAfterTheRestoreWasHandledIsReplayedToo(EmbeddedStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            LetheConfig config = standalone(f, stack, scope);
            String group = RegionConsumerService.groupId(config, REGION);
            try (RegionRedis regionRedis = new RegionRedis(config.region(REGION), 1, Duration.ofSeconds(2))) {
                RestoreGuard guard = new RestoreGuard(regionRedis, group);
                assertTrue(guard.check(ALL).isEmpty(), "a first start");
                guard.checkpoint(Map.of(0, 10L, 1, 10L, 2, 10L));
                f.redis(REGION).save();
                guard.checkpoint(Map.of(0, 20L, 1, 20L, 2, 20L));
                stack.crashRedis(REGION, List.of());
                RegionFixture.await("the restored Redis answers", Duration.ofSeconds(30), regionRedis::ping);
                // the consumer that owns partition 0 handles the restore
                Optional<Restore> restore = guard.check(Set.of(0));
                assertTrue(restore.isPresent(), "the restore is noticed");
                assertEquals(Map.of(0, 10L), restore.get().checkpoint());
                guard.replayed(restore.get(), Map.of(0, 10L));
                assertTrue(guard.check(Set.of(0)).isEmpty(), "partition 0 replayed");
                // another consumer gets partition 1 later (a rebalance, or a new pod)
                RestoreGuard later = new RestoreGuard(regionRedis, group);
                Optional<Restore> seenLater = later.check(Set.of(1));
                assertTrue(seenLater.isPresent() && Long.valueOf(10L).equals(seenLater.get().checkpoint().get(1)),
                        "partition 1, assigned after the restore was handled for partition 0, was not replayed from the restored checkpoint: "
                                + seenLater);
                // and so does the first consumer, given partition 1 by a rebalance
                assertEquals(Map.of(1, 10L), guard.check(Set.of(0, 1)).orElseThrow().checkpoint());
                // a commit of partition 0 after its replay is written, with the server answering now
                guard.checkpoint(Map.of(0, 40L, 1, 40L));
                assertEquals("40", f.redis(REGION).hget(RedisLayout.checkpointKey(group), "0"));
                assertEquals("10", f.redis(REGION).hget(RedisLayout.checkpointKey(group), "1"), "partition 1 is not replayed yet");
            }
        }
    }

    @Test
    void aCommitRacingTheDetectionOnARestoredClusterMasterDoesNotOverwriteItsCheckpoint(EmbeddedStack stack, TestScope scope)
            throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            LetheConfig config = f.config(f.yaml(Map.of(REGION, "{ redis: \"" + stack.redisClusterUri() + "\", topology: cluster }"),
                    "product: { table: public.products, keys: [\"" + scope.keyPrefix() + "product:{id}\"] }", ""));
            String group = RegionConsumerService.groupId(config, REGION);
            String node = stack.redisClusterNodeUris().get(0);
            try (RegionRedis regionRedis = new RegionRedis(config.region(REGION), 1, Duration.ofSeconds(2))) {
                RestoreGuard guard = new RestoreGuard(regionRedis, group);
                assertTrue(guard.check(ALL).isEmpty(), "a first start");
                guard.checkpoint(Map.of(0, 10L, 1, 10L, 2, 10L));
                onNode(node, c -> c.sync().save());
                guard.checkpoint(Map.of(0, 20L, 1, 20L, 2, 20L));
                stack.restartRedisClusterNode(0);
                RegionFixture.await("the restored master answers", Duration.ofSeconds(60), () -> {
                    try {
                        return guard.check(ALL) != null;
                    } catch (RuntimeException e) {
                        return false;
                    }
                });
                commitRacing(guard, Map.of(0, 30L, 1, 30L, 2, 30L));
                String[] offset = new String[1];
                onNode(node, c -> c.sync().keys(RedisLayout.CHECKPOINT_PREFIX + "*" + group)
                        .forEach(k -> offset[0] = c.sync().hget(k, "0")));
                assertEquals("10", offset[0], "a commit landing in the restored master before the restore is noticed overwrote "
                        + "the checkpoint its snapshot carried");
            }
        }
    }

    /** A plain member of the region's group that owns every partition until closed (it never polls again). */
    private static KafkaConsumer<String, String> holder(RegionFixture f, LetheConfig config)
            throws InterruptedException {
        Properties props = new Properties();
        props.put("bootstrap.servers", f.stack.kafkaBootstrapServers());
        props.put("group.id", RegionConsumerService.groupId(config, REGION));
        props.put("enable.auto.commit", "false");
        props.put("auto.offset.reset", "latest");
        var holder = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer());
        holder.subscribe(List.of(config.topics().invalidations(REGION)));
        RegionFixture.await("a member holding every partition", Duration.ofSeconds(30), () -> {
            holder.poll(Duration.ofMillis(100));
            return holder.assignment().size() == 3;
        });
        return holder;
    }

    /** INFO commands this test sent itself (each reply counts the ones before it). */
    private static final AtomicLong OWN_INFO_CALLS = new AtomicLong();

    /**
     * How many INFO commands others sent the server: the region consumer's restore check calls
     * it once a second.
     */
    private static long infoCalls(RedisCommands<String, String> redis) {
        String stats = redis.info("commandstats");
        long own = OWN_INFO_CALLS.getAndIncrement();
        for (String line : stats.split("\\r?\\n")) {
            if (line.startsWith("cmdstat_info:calls=")) {
                return Long.parseLong(line.substring("cmdstat_info:calls=".length(), line.indexOf(','))) - own;
            }
        }
        return -own;
    }

    /** A checkpoint write as the consumer does after each commit: a refusal only delays it. */
    private static void commitRacing(RestoreGuard guard, Map<Integer, Long> offsets) {
        try {
            guard.checkpoint(offsets);
        } catch (RuntimeException refused) {
            // a refusal is what is expected of a server whose identity was not verified
        }
    }

    private static LetheConfig standalone(RegionFixture f, EmbeddedStack stack, TestScope scope) {
        return f.config(f.yaml(Map.of(REGION, "{ redis: " + stack.redisUri(REGION) + " }"),
                "product: { table: public.products, keys: [\"" + scope.keyPrefix() + "product:{id}\"] }", ""));
    }

    private static RegionConsumerService service(LetheConfig config) {
        return new RegionConsumerService(config, REGION, new SimpleMeterRegistry(), Clock.systemUTC());
    }

    private static void onNode(String uri, Consumer<StatefulRedisConnection<String, String>> action) {
        RedisClient client = RedisClient.create();
        try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(uri))) {
            action.accept(c);
        } finally {
            client.shutdown();
        }
    }
}
