package io.lethe.region.apply;

import io.lethe.region.redis.RegionRedis;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writing side of {@link RestoreGuard}: what it verified on each node of the region's Redis
 * (the server's run_id, the partitions checked there), and the writes allowed only into a server
 * so verified (the checkpoint, the applied watermark), each checked again inside its script.
 * Single-threaded, like the guard.
 */
final class CheckpointWrites {
    private static final Logger LOG = LoggerFactory.getLogger(RestoreGuard.class);

    private final RegionRedis redis;
    private final String group;
    private final IntSupplier partitionCount;
    /** Node id to the run_id last verified there. */
    final Map<String, String> known = new HashMap<>();
    /** Node id to the partitions whose checkpoint was verified on that server while owning them. */
    final Map<String, Set<Integer>> verified = new HashMap<>();
    /** A write was refused since the last check: another server answers. */
    boolean recheck;
    /** The id of the Kafka cluster the region reads, once known; null before. */
    String cluster;

    CheckpointWrites(RegionRedis redis, String group, IntSupplier partitionCount) {
        this.redis = redis;
        this.group = group;
        this.partitionCount = partitionCount;
    }

    /**
     * After a restore was handled (its partitions sought back and that position committed): writes
     * that position as the checkpoint of the replayed partitions into each restored node, if the
     * node is still the server it was checked as, and from then on trusts the node for every
     * partition assigned at the check. When a node changed again meanwhile, the next check finds it.
     */
    void replayed(Restore restore, Map<Integer, Long> rewound) {
        // the write pins the restored run_id on every partition without its own, so that the consumers owning
        // the others still see they were restored: at least every partition this one knows of
        int partitions = partitions(restore.assigned(), rewound.keySet());
        for (CheckpointNodes.CheckpointNode node : CheckpointNodes.of(redis, group)) {
            String runId = restore.runIds().get(node.id());
            if (runId == null) {
                continue;
            }
            if (CheckpointScript.write(node.commands(), node.checkpointKey(), runId, cluster, partitions, rewound)) {
                known.put(node.id(), runId);
                verified.computeIfAbsent(node.id(), k -> new HashSet<>()).addAll(restore.assigned());
            } else {
                recheck = true;
            }
        }
    }

    /**
     * The partition count to pin checkpoints over: the topic's, and never fewer than the partitions
     * named here (the count may be unknown just now, or read from metadata older than an expansion).
     */
    private int partitions(Set<Integer> some, Set<Integer> more) {
        int count = partitionCount.getAsInt();
        for (int p : some) {
            count = Math.max(count, p + 1);
        }
        for (int p : more) {
            count = Math.max(count, p + 1);
        }
        return count;
    }

    /** True when a write was refused since the last check: another server answers; check now. */
    boolean recheckWanted() {
        return recheck;
    }

    /**
     * Records offsets the consumer committed after Redis acknowledged their batches, on every node,
     * for the partitions verified there, and only while the node is the server this guard verified
     * (checked inside the writing script): a node restored since keeps the checkpoint its data
     * came with, so the restore is replayed from it.
     */
    void checkpoint(Map<Integer, Long> committed) {
        if (committed.isEmpty()) {
            return;
        }
        int partitions = partitions(committed.keySet(), Set.of());
        for (CheckpointNodes.CheckpointNode node : CheckpointNodes.of(redis, group)) {
            String runId = known.get(node.id());
            Set<Integer> done = verified.get(node.id());
            if (runId == null || done == null) {
                continue;
            }
            Map<Integer, Long> offsets = new HashMap<>(committed);
            offsets.keySet().retainAll(done);
            if (offsets.isEmpty()) {
                continue;
            }
            if (!CheckpointScript.write(node.commands(), node.checkpointKey(), runId, cluster, partitions, offsets)) {
                recheck = true;
                LOG.info("checkpoint of {} not written to Redis node {}: it is not the server verified as {} (restarted or failed over); "
                        + "checking it now", group, node.id(), runId);
            }
        }
    }

    /**
     * HSET of {@code fields} into {@code key} only while the server holding it is the one this
     * guard verified there (checked inside the writing script): for what readers trust besides the
     * checkpoint (the applied watermark), which a server restored since must not receive before the
     * restore was replayed.
     *
     * @return false when refused (not verified yet, or another server answers: checked at once)
     */
    boolean writeVerified(String key, Map<String, String> fields) {
        CheckpointNodes.CheckpointNode node = CheckpointNodes.holding(redis, group, key);
        String runId = known.get(node.id());
        if (runId == null) {
            return false;
        }
        if (!CheckpointScript.hset(node.commands(), key, runId, fields)) {
            recheck = true;
            return false;
        }
        return true;
    }

    /** {@link #checkpoint} of offsets just committed; a failure only delays it (the next commit writes it). */
    void checkpointCommitted(Map<TopicPartition, OffsetAndMetadata> committed) {
        Map<Integer, Long> offsets = new HashMap<>();
        committed.forEach((tp, om) -> offsets.put(tp.partition(), om.offset()));
        try {
            checkpoint(offsets);
        } catch (RuntimeException e) {
            LOG.debug("checkpoint not written ({}); the next commit writes it", e.toString());
        }
    }
}
