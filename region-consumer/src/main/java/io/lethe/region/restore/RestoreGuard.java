package io.lethe.region.restore;

import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.RedisLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Notices that the region's Redis lost writes that Lethe had applied: it restarted from an RDB or
 * AOF file older than its last writes, or a replica that had not received them was promoted.
 *
 * <p>The region consumer keeps a <em>checkpoint</em> in that Redis: the offsets it committed after
 * applying, and the {@code run_id} of the server it wrote them to. The checkpoint is data like any
 * other, so it is in the same snapshot and on the same replicas as the entries: whatever state
 * Redis comes back in, its checkpoint says up to which offsets that state is complete. A restore
 * shows as a server whose {@code run_id} is not the one this guard saw last, or not the one the
 * checkpoint was written with. The consumer then seeks back to the checkpoint (and at least a
 * fence TTL back, to recreate the fences readers in flight rely on), and where no checkpoint
 * survived in a Redis that holds data, invalidates its namespaces wholesale.
 *
 * <p>A Redis Cluster keeps one checkpoint per master, in a slot that master owns
 * ({@link RedisLayout#checkpointKey(String, int)}), so each master's snapshot carries its own;
 * a restored master replays every partition from its checkpoint (which keys of a partition live
 * on which master is not known).
 */
public final class RestoreGuard {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RestoreGuard.class);
    private final RegionRedis redis;
    private final String group;
    /** Node id to the run_id this guard last verified there. */
    private final Map<String, String> known = new HashMap<>();

    /**
     * What a restore left behind, over every node found restored.
     *
     * @param nodes      the restored nodes, as {@code id: previous run_id -> run_id now}
     * @param runIds     node id to its run_id now
     * @param checkpoint committed offset by partition as the restored data has it (the lowest over
     *                   the restored nodes; a partition one of them lacks is 0); empty when none survived
     * @param unknown    true when a restored node holds no checkpoint: its data's position is unknown
     * @param keys       keys on the restored nodes now (DBSIZE)
     */
    public record Restore(List<String> nodes, Map<String, String> runIds, Map<Integer, Long> checkpoint, boolean unknown, long keys) {
        /** True when data of unknown position remains: only a wholesale invalidation is enough. */
        public boolean wholesale() {
            return unknown && keys > 0;
        }

        /** A short id of the restore, for event ids. */
        public String id() {
            return String.join("+", runIds.values());
        }
    }

    /**
     * @param group the region's consumer group: one checkpoint per deployment and region, so two
     *              pipelines sharing a Redis keep theirs apart
     */
    public RestoreGuard(RegionRedis redis, String group) {
        this.redis = Objects.requireNonNull(redis);
        this.group = group;
    }

    /**
     * Compares each node answering now with the one last seen and with its checkpoint's writer.
     * A node seen for the first time is adopted when its checkpoint agrees with it, or when it has
     * none yet (a first start: nothing was applied there that could be lost).
     *
     * @return the restore to handle; empty when every node holds the data Lethe last wrote to
     * @throws RuntimeException when Redis does not answer (check again later)
     */
    public Optional<Restore> check() {
        List<String> nodes = new ArrayList<>();
        Map<String, String> runIds = new LinkedHashMap<>();
        Map<Integer, Long> merged = new LinkedHashMap<>();
        List<Map<Integer, Long>> checkpoints = new ArrayList<>();
        boolean unknown = false;
        long keys = 0;
        for (CheckpointNodes.CheckpointNode node : CheckpointNodes.of(redis, group)) {
            String runId = node.runId();
            Map<String, String> checkpoint = node.commands().hgetall(node.checkpointKey());
            String written = checkpoint.get(RedisLayout.CHECKPOINT_RUN_ID);
            String last = known.get(node.id());
            boolean serverChanged = last != null && !last.equals(runId);
            boolean restoredData = written != null && !written.equals(runId);
            if (!serverChanged && !restoredData) {
                known.put(node.id(), runId);
                continue;
            }
            nodes.add(node.id() + ": " + (serverChanged ? last : written) + " -> " + runId);
            runIds.put(node.id(), runId);
            Map<Integer, Long> offsets = new LinkedHashMap<>();
            checkpoint.forEach((field, value) -> {
                if (!field.equals(RedisLayout.CHECKPOINT_RUN_ID)) {
                    offsets.put(Integer.parseInt(field), Long.parseLong(value));
                }
            });
            unknown |= offsets.isEmpty();
            if (!offsets.isEmpty()) {
                checkpoints.add(offsets);
            }
            keys += node.commands().dbsize();
        }
        if (nodes.isEmpty()) {
            return Optional.empty();
        }
        checkpoints.forEach(c -> c.keySet().forEach(p -> merged.put(p, checkpoints.stream()
                .mapToLong(other -> other.getOrDefault(p, 0L)).min().orElse(0))));
        return Optional.of(new Restore(nodes, runIds, merged, unknown, keys));
    }

    /** After a restore was handled: from now on the nodes answering now are the ones Lethe writes to. */
    public void adopt(Restore restore) {
        for (CheckpointNodes.CheckpointNode node : CheckpointNodes.of(redis, group)) {
            String runId = restore.runIds().get(node.id());
            if (runId != null) {
                node.commands().hset(node.checkpointKey(), Map.of(RedisLayout.CHECKPOINT_RUN_ID, runId));
                known.put(node.id(), runId);
            }
        }
    }

    /**
     * Records offsets the consumer committed after Redis acknowledged their batches, on every
     * node, with the run_id this guard verified there (not a fresh one: if a node was restored
     * since, its checkpoint must keep pointing at the older server, so the restore is noticed).
     */
    public void checkpoint(Map<Integer, Long> committed) {
        if (committed.isEmpty()) {
            return;
        }
        for (CheckpointNodes.CheckpointNode node : CheckpointNodes.of(redis, group)) {
            String runId = known.get(node.id());
            if (runId == null) {
                continue;
            }
            Map<String, String> fields = new HashMap<>();
            committed.forEach((partition, offset) -> fields.put(Integer.toString(partition), Long.toString(offset)));
            fields.put(RedisLayout.CHECKPOINT_RUN_ID, runId);
            node.commands().hset(node.checkpointKey(), fields);
        }
    }

    /** {@link #checkpoint} of offsets just committed; a failure only delays it (the next commit writes it). */
    public void checkpointCommitted(Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> committed) {
        Map<Integer, Long> offsets = new java.util.HashMap<>();
        committed.forEach((tp, om) -> offsets.put(tp.partition(), om.offset()));
        try {
            checkpoint(offsets);
        } catch (RuntimeException e) {
            LOG.debug("checkpoint not written ({}); the next commit writes it", e.toString());
        }
    }
}
