package io.lethe.region.apply;

import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.util.ArrayList;
import java.util.List;

/** The servers of a region's Redis that each keep a checkpoint of what was applied to them. */
final class CheckpointNodes {
    private CheckpointNodes() {
    }

    /**
     * One server that keeps a checkpoint: the standalone (or Sentinel-chosen) server, or each
     * master of a cluster. Its {@code run_id} is new after every restart and different on every node.
     *
     * @param id            a stable name: "standalone", or the cluster node id (kept across restarts in nodes.conf)
     * @param checkpointKey the key, in a slot this node owns, where the checkpoint lives
     */
    record CheckpointNode(String id, String checkpointKey, RedisCommands<String, String> commands) {
        public String runId() {
            return CheckpointNodes.runId(commands.info("server"), id);
        }
    }

    /** The servers that keep the checkpoint of {@code group}: one, or every master of the cluster. */
    static List<CheckpointNode> of(RegionRedis redis, String group) {
        StatefulConnection<String, String> control = redis.controlConnection();
        if (!(control instanceof StatefulRedisClusterConnection)) {
            return List.of(new CheckpointNode("standalone", RedisLayout.checkpointKey(group),
                    ((StatefulRedisConnection<String, String>) control).sync()));
        }
        StatefulRedisClusterConnection<String, String> cluster = (StatefulRedisClusterConnection<String, String>) control;
        List<CheckpointNode> out = new ArrayList<>();
        for (RedisClusterNode node : cluster.getPartitions()) {
            if (node.is(RedisClusterNode.NodeFlag.UPSTREAM) && !node.getSlots().isEmpty()) {
                out.add(new CheckpointNode(node.getNodeId(), RedisLayout.checkpointKey(group, node.getSlots().get(0)),
                        cluster.getConnection(node.getNodeId()).sync()));
            }
        }
        return out;
    }

    /** The server holding {@code key}: the standalone one, or the master owning its slot. */
    static CheckpointNode holding(RegionRedis redis, String group, String key) {
        StatefulConnection<String, String> control = redis.controlConnection();
        if (!(control instanceof StatefulRedisClusterConnection)) {
            return of(redis, group).get(0);
        }
        StatefulRedisClusterConnection<String, String> cluster = (StatefulRedisClusterConnection<String, String>) control;
        RedisClusterNode node = cluster.getPartitions().getPartitionBySlot(SlotHash.getSlot(key));
        if (node == null) {
            throw new IllegalStateException("no master owns the slot of " + key + " yet");
        }
        return new CheckpointNode(node.getNodeId(), RedisLayout.checkpointKey(group, node.getSlots().get(0)),
                cluster.getConnection(node.getNodeId()).sync());
    }

    private static String runId(String info, String node) {
        for (String line : info.split("\\r?\\n")) {
            if (line.startsWith("run_id:")) {
                return line.substring("run_id:".length()).trim();
            }
        }
        throw new IllegalStateException("Redis node " + node + " did not report its run_id");
    }
}
