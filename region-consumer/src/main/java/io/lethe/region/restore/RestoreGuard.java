package io.lethe.region.restore;

import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.RedisLayout;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Notices that the region's Redis lost writes that Lethe had applied: it restarted from an RDB or
 * AOF file older than its last writes, or a replica that had not received them was promoted.
 *
 * <p>The region consumer keeps a <em>checkpoint</em> in that Redis ({@link RedisLayout#checkpointKey}):
 * the offsets it committed after applying, and the {@code run_id} of the server it wrote them to.
 * The checkpoint is data like any other, so it is in the same snapshot and on the same replicas as
 * the entries: whatever state Redis comes back in, its checkpoint says up to which offsets that
 * state is complete. A restore shows as a server whose {@code run_id} is not the one this guard
 * saw last, or not the one the checkpoint was written with. The consumer then seeks back to the
 * checkpoint (and at least a fence TTL back, to recreate the fences readers in flight rely on),
 * and where no checkpoint survived in a Redis that holds data, invalidates its namespaces
 * wholesale.
 *
 * <p>Redis Cluster is not covered: each master has its own {@code run_id} and its own snapshot,
 * so a per-slot checkpoint would be needed (see docs/design.md).
 */
public final class RestoreGuard {
    private final RegionRedis redis;
    private final String key;
    /** The run_id of the server this guard last verified, null before the first check. */
    private String knownRunId;

    /**
     * What a restore left behind.
     *
     * @param previousRunId the server Lethe last wrote to (or the checkpoint's, after a consumer restart)
     * @param runId         the server answering now
     * @param checkpoint    committed offset by partition, as the restored data has it; empty when none survived
     * @param keys          keys in Redis now (DBSIZE)
     */
    public record Restore(String previousRunId, String runId, Map<Integer, Long> checkpoint, long keys) {
        /** True when the restored data's position is unknown but it holds keys: only a wholesale invalidation is enough. */
        public boolean wholesale() {
            return checkpoint.isEmpty() && keys > 0;
        }
    }

    /**
     * @param group the region's consumer group: one checkpoint per deployment and region, so two
     *              pipelines sharing a Redis keep theirs apart
     */
    public RestoreGuard(RegionRedis redis, String group) {
        this.redis = Objects.requireNonNull(redis);
        this.key = RedisLayout.checkpointKey(group);
    }

    /**
     * Compares the server answering now with the one last seen and with the checkpoint's writer.
     * The first check of a consumer adopts the server when the checkpoint agrees with it, or when
     * there is no checkpoint yet (a first start: nothing was applied here that could be lost).
     *
     * @return the restore to handle; empty when the data is the one Lethe last wrote to
     * @throws RuntimeException when Redis does not answer (check again later)
     */
    public Optional<Restore> check() {
        String runId = redis.runId();
        Map<String, String> checkpoint = redis.hashAll(key);
        String written = checkpoint.get(RedisLayout.CHECKPOINT_RUN_ID);
        boolean serverChanged = knownRunId != null && !knownRunId.equals(runId);
        boolean restoredData = written != null && !written.equals(runId);
        if (!serverChanged && !restoredData) {
            knownRunId = runId;
            return Optional.empty();
        }
        Map<Integer, Long> offsets = new LinkedHashMap<>();
        checkpoint.forEach((field, value) -> {
            if (!field.equals(RedisLayout.CHECKPOINT_RUN_ID)) {
                offsets.put(Integer.parseInt(field), Long.parseLong(value));
            }
        });
        return Optional.of(new Restore(serverChanged ? knownRunId : written, runId, offsets, redis.dbSize()));
    }

    /** After a restore was handled: from now on the server answering now is the one Lethe writes to. */
    public void adopt(Restore restore) {
        knownRunId = restore.runId();
        redis.hashSet(key, Map.of(RedisLayout.CHECKPOINT_RUN_ID, restore.runId()));
    }

    /**
     * Records offsets the consumer committed after Redis acknowledged their batches, with the
     * run_id this guard verified (not a fresh one: if Redis was restored since, the checkpoint must
     * keep pointing at the older server, so the restore is still noticed).
     */
    public void checkpoint(Map<Integer, Long> committed) {
        if (knownRunId == null || committed.isEmpty()) {
            return;
        }
        Map<String, String> fields = new HashMap<>();
        committed.forEach((partition, offset) -> fields.put(Integer.toString(partition), Long.toString(offset)));
        fields.put(RedisLayout.CHECKPOINT_RUN_ID, knownRunId);
        redis.hashSet(key, fields);
    }
}
