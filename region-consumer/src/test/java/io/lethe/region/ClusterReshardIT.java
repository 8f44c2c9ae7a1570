package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lettuce.core.MigrateArgs;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A pattern's scan over a real 3-master Redis Cluster while a slot migrates (CLUSTER SETSLOT
 * IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE: what {@code redis-cli --cluster reshard} does). A
 * scan visits master by master; a key moved from a master not yet scanned to one already scanned
 * is found by neither, unless the scan notices the move and covers the slot again.
 */
@ExtendWith(LetheStackExtension.class)
class ClusterReshardIT {

    @Test
    void aScanFindsTheKeysASlotMigrationMovesToAMasterAlreadyScanned(LetheStack stack, TestScope scope) throws Exception {
        scanWhileASlotMoves(stack, scope, true);
    }

    /** The migration is still under way when the scan ends: the slot's keys are read on every master, the moved one by ASK. */
    @Test
    void aScanFindsTheKeysOfASlotStillMigratingWhenItEnds(LetheStack stack, TestScope scope) throws Exception {
        scanWhileASlotMoves(stack, scope, false);
    }

    private void scanWhileASlotMoves(LetheStack stack, TestScope scope, boolean handOver) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope); Cluster cluster = new Cluster(stack.redisClusterUri())) {
            String p = scope.keyPrefix();
            // 240 matching keys at 40 a second: the scan takes about two seconds per master
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: \"" + stack.redisClusterUri() + "\", topology: cluster }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"], patterns: [\"" + p + "search:*\"] }",
                    "pattern-scan-count: 10\npattern-keys-per-second: 40"));
            List<String> keys = RegionFixture.keys(p + "search:", 240);
            keys.forEach(k -> cluster.redis.hset(k, Map.of("v", "0", "d", "results")));
            Map<String, String> owners = new LinkedHashMap<>();
            keys.forEach(k -> owners.put(k, cluster.owner(k).getNodeId()));
            assertEquals(3, owners.values().stream().distinct().count(), "keys on every master");
            String topic = config.topics().invalidations("us-east");
            String group = RegionConsumerService.groupId(config, "us-east");
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east", registry, Clock.systemUTC())) {
                region.start();
                f.send(topic, RegionFixture.pattern("product", Scope.PATTERN, p + "search:*", "50", Op.UPDATE));
                f.flush();
                // once one master's keys are all gone, the scan has finished that master
                String[] scanned = new String[1];
                RegionFixture.await("a master scanned completely", Duration.ofSeconds(60), () -> {
                    scanned[0] = owners.values().stream().distinct()
                            .filter(node -> keys.stream().filter(k -> owners.get(k).equals(node))
                                    .allMatch(k -> cluster.redis.exists(k) == 0))
                            .findFirst().orElse(null);
                    return scanned[0] != null;
                });
                // masters are scanned one after another: the victim comes from one the scan has not started on (all
                // its keys still there), else a page the scan already read could hold it and its call meet TRYAGAIN
                // before the scan ends (then the scan is retried until the slot is handed over, and never ends
                // with it migrating, which is what this test is about)
                Optional<String> untouched = owners.values().stream().distinct().filter(node -> !node.equals(scanned[0]))
                        .filter(node -> keys.stream().filter(k -> owners.get(k).equals(node)).allMatch(k -> cluster.redis.exists(k) == 1))
                        .findFirst();
                Optional<String> victim = keys.stream().filter(k -> !owners.get(k).equals(scanned[0]) && cluster.redis.exists(k) == 1)
                        .filter(k -> untouched.isEmpty() || owners.get(k).equals(untouched.get()))
                        .findFirst();
                assertTrue(victim.isPresent(), "the scan is still on the other masters");
                int slot = cluster.redis.clusterKeyslot(victim.get()).intValue();
                String from = owners.get(victim.get());
                cluster.moveKeys(slot, from, scanned[0]);
                if (handOver) {
                    cluster.handOver(slot, scanned[0]);
                }
                try {
                    if (!handOver) {
                        // the scan ends with the slot still migrating and reads its keys on every master; a call
                        // for the moved key meets TRYAGAIN (its fence is not there) until the slot is handed over
                        RegionFixture.await("the scan reading the migrating slot again", Duration.ofSeconds(120),
                                () -> registry.counter(RegionMeterNames.SCAN_SLOTS_RESCANNED, "region", "us-east").count() > 0);
                        cluster.handOver(slot, scanned[0]);
                    }
                    RegionFixture.await("the pattern applied and committed", Duration.ofSeconds(120),
                            () -> committedAll(f, group, topic));
                    assertEquals(0, cluster.redis.exists(victim.get()), victim.get() + " moved during the scan from a master not yet "
                            + "scanned to one already scanned (slot " + slot + "), and was never invalidated");
                    assertTrue(keys.stream().allMatch(k -> cluster.redis.exists(k) == 0), "every matching key is gone");
                } finally {
                    cluster.handOver(slot, scanned[0]); // a no-op when done
                    cluster.moveKeys(slot, scanned[0], from);
                    cluster.handOver(slot, from);
                }
            }
        }
    }

    private static boolean committedAll(RegionFixture f, String group, String topic) {
        try {
            return f.committed(group, topic) >= f.endOffsets(topic, 3);
        } catch (Exception e) {
            return false;
        }
    }

    /** The stack's Redis Cluster, with what a resharding does by hand. */
    static final class Cluster implements AutoCloseable {
        final RedisClusterClient client;
        final StatefulRedisClusterConnection<String, String> connection;
        final RedisAdvancedClusterCommands<String, String> redis;

        Cluster(String uri) {
            client = RedisClusterClient.create(uri);
            connection = client.connect();
            redis = connection.sync();
        }

        RedisClusterNode owner(String key) {
            connection.getPartitions().updateCache();
            return connection.getPartitions().getPartitionBySlot(redis.clusterKeyslot(key).intValue());
        }

        RedisCommands<String, String> node(String nodeId) {
            return connection.getConnection(nodeId).sync();
        }

        /** Starts moving {@code slot} from one master to another and moves its keys (redis-cli --cluster reshard's first steps). */
        void moveKeys(int slot, String fromId, String toId) {
            RedisCommands<String, String> from = node(fromId);
            RedisCommands<String, String> to = node(toId);
            RedisClusterNode target = connection.getPartitions().getPartitionByNodeId(toId);
            to.clusterSetSlotImporting(slot, fromId);
            from.clusterSetSlotMigrating(slot, toId);
            for (List<String> batch = from.clusterGetKeysInSlot(slot, 100); !batch.isEmpty(); batch = from.clusterGetKeysInSlot(slot,
                    100)) {
                from.migrate(target.getUri().getHost(), target.getUri().getPort(), 0, 5000, MigrateArgs.Builder.keys(batch));
            }
        }

        /** Hands {@code slot} over to its new master on every master (the last step), and refreshes the client. */
        void handOver(int slot, String toId) {
            for (RedisClusterNode master : connection.getPartitions()) {
                if (master.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                    node(master.getNodeId()).clusterSetSlotNode(slot, toId);
                }
            }
            client.refreshPartitions();
        }

        @Override
        public void close() {
            connection.close();
            client.shutdown();
        }
    }
}
