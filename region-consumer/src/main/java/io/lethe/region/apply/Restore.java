package io.lethe.region.apply;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a restore of the region's Redis left behind, over every node found restored ({@link RestoreGuard#check}).
 *
 * @param nodes      the restored nodes, as {@code id: previous run_id -> run_id now}
 * @param runIds     node id to its run_id now
 * @param checkpoint the assigned partitions restored with a checkpoint, to its offset as the
 *                   restored data has it (the lowest over the restored nodes; a partition the
 *                   restored checkpoint lacks is 0)
 * @param partitions every assigned partition to replay (those of {@code checkpoint}, and every
 *                   assigned one when a node came back without any checkpoint)
 * @param assigned   the partitions assigned when this was checked
 * @param unknown    true when a restored node holds no checkpoint: its data's position is unknown
 * @param keys       keys on the restored nodes now (DBSIZE)
 */
public record Restore(List<String> nodes, Map<String, String> runIds, Map<Integer, Long> checkpoint, Set<Integer> partitions,
        Set<Integer> assigned, boolean unknown, long keys) {
    /** True when data of unknown position remains: only a wholesale invalidation is enough. */
    public boolean wholesale() {
        return unknown && keys > 0;
    }

    /** A short id of the restore, for event ids. */
    public String id() {
        return String.join("+", runIds.values());
    }
}
