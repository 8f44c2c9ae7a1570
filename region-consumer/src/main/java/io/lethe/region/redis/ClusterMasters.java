package io.lethe.region.redis;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A region's Redis Cluster master by master: its slot map, and SCAN and the keys of a slot on one master. */
public final class ClusterMasters {
    private final RedisClusterClient clusterClient;
    private final StatefulRedisClusterConnection<String, String> control;

    ClusterMasters(RedisClusterClient clusterClient, StatefulRedisClusterConnection<String, String> control) {
        this.clusterClient = clusterClient;
        this.control = control;
    }

    /**
     * A Redis Cluster's masters and slots, as each master describes itself. When a master the
     * client does not know yet appears in any master's view (one added for a resharding), the
     * client's view is refreshed first, so no master is left out of a scan.
     */
    public SlotMap slotMap() {
        StatefulRedisClusterConnection<String, String> c = control;
        for (int attempt = 0;; attempt++) {
            Map<String, String> myself = new LinkedHashMap<>();
            Set<String> seen = new LinkedHashSet<>();
            for (RedisClusterNode node : c.getPartitions()) {
                if (!node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                    continue;
                }
                String nodes = c.getConnection(node.getNodeId()).sync().clusterNodes();
                for (String line : nodes.split("\n")) {
                    String[] f = line.trim().split(" ");
                    if (f.length < 3) {
                        continue;
                    }
                    List<String> flags = List.of(f[2].split(","));
                    if (flags.contains("myself")) {
                        myself.put(node.getNodeId(), line);
                    }
                    if (flags.contains("master") && !flags.contains("fail") && !flags.contains("handshake") && !flags.contains("noaddr")) {
                        seen.add(f[0]);
                    }
                }
            }
            if (myself.keySet().containsAll(seen) || attempt >= 2) {
                return SlotMap.of(myself);
            }
            clusterClient.refreshPartitions();
        }
    }

    /** One SCAN step on one master of a cluster. */
    public KeyScanCursor<String> scan(String node, ScanCursor cursor, String match, int count) {
        return control.getConnection(node).sync()
                .scan(cursor, ScanArgs.Builder.matches(match).limit(count));
    }

    /** Every key one master of a cluster holds in {@code slot} (imported or not yet migrated ones too). */
    public List<String> keysInSlot(String node, int slot) {
        RedisCommands<String, String> commands = control.getConnection(node).sync();
        long count = commands.clusterCountKeysInSlot(slot);
        return count == 0 ? List.of() : commands.clusterGetKeysInSlot(slot, (int) Math.min(Integer.MAX_VALUE, count));
    }
}
