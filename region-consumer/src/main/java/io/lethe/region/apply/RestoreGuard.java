package io.lethe.region.apply;

import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.RedisLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices that the region's Redis lost writes that Lethe had applied: it restarted from an RDB or
 * AOF file older than its last writes, or a replica that had not received them was promoted.
 *
 * <p>The region consumer keeps a <em>checkpoint</em> in that Redis: per partition, the offset it
 * committed after applying and the {@code run_id} of the server it wrote that offset to. The
 * checkpoint is data like any other, so it is in the same snapshot and on the same replicas as the
 * entries: whatever state Redis comes back in, its checkpoint says up to which offsets that state
 * is complete, and a partition whose offset was written to another server than the one answering
 * now was restored. The consumer then seeks that partition back to the checkpoint (and at least a
 * fence TTL back, to recreate the fences readers in flight rely on), and where no checkpoint
 * survived in a Redis that holds data, invalidates its namespaces wholesale.
 *
 * <p>Rules, so that a restore is replayed whenever it happened and whoever gets the partitions:
 * <ul>
 *   <li>partitions are judged one by one, when this consumer owns them ({@link #check(Set)} runs
 *       on every assignment): a partition assigned later, to this consumer or another one, is
 *       still compared with the server, as its offset keeps the run_id it was written to;</li>
 *   <li>a checkpoint is only written into a server whose run_id is, inside the writing script,
 *       the one this consumer verified ({@code lua/checkpoint.lua}), and only for partitions it
 *       verified there since it owns them: a commit racing the detection is refused and the
 *       restored checkpoint stays as the snapshot carried it.</li>
 * </ul>
 *
 * <p>A Redis Cluster keeps one checkpoint per master, in a slot that master owns
 * ({@link RedisLayout#checkpointKey(String, int)}), so each master's snapshot carries its own;
 * a partition restored on any master is replayed from the lowest such checkpoint (which keys of a
 * partition live on which master is not known).
 *
 * <p>The checkpoint also records the Kafka cluster its offsets are positions in ({@link #CLUSTER}):
 * offsets of another cluster (a region moved onto a mirror of its own, moved back, or a cluster
 * rebuilt under the same address, see {@link TopicMove}) say nothing about this one's log, so a
 * restored checkpoint of another cluster counts as none (a wholesale invalidation when the server
 * holds keys), and the first write on a new cluster starts the checkpoint afresh.
 *
 * <p>Single-threaded: only the consumer's thread calls it.
 */
public final class RestoreGuard {
    private static final Logger LOG = LoggerFactory.getLogger(RestoreGuard.class);
    /** Prefix of a partition's own run_id field in the checkpoint: {@code run_id:<partition>}. */
    static final String PARTITION_RUN_ID = RedisLayout.CHECKPOINT_RUN_ID + ":";
    /** Field of the checkpoint: the id of the Kafka cluster its offsets were read on (absent in checkpoints written before it was). */
    public static final String CLUSTER = "cluster";

    private final RegionRedis redis;
    private final String group;
    private final IntSupplier partitionCount;
    /** Node id to the run_id this guard last verified there. */
    private final Map<String, String> known = new HashMap<>();
    /** Node id to the partitions whose checkpoint this guard verified on that server while owning them. */
    private final Map<String, Set<Integer>> verified = new HashMap<>();
    private boolean recheck;
    /** The id of the Kafka cluster the region reads, once known ({@link #cluster(String)}); null before. */
    private String cluster;
    /** A move to another cluster invalidated this Redis wholesale: no checkpoint at the first contact is then no restore. */
    private boolean invalidatedByMove;

    /**
     * What a restore left behind, over every node found restored.
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

    /**
     * The id of the Kafka cluster the region reads ({@link TopicMove#clusterId}): written with every
     * checkpoint, and a restored checkpoint of another cluster is not replayed from.
     */
    public void cluster(String id) {
        this.cluster = id;
    }

    /**
     * Deletes the checkpoint on every node once a move to another Kafka cluster invalidated the
     * region's namespaces wholesale: its offsets say nothing about the new cluster's log. Partitions
     * are written again with the next commit; until then a restore finds no offset of them (replayed
     * from their log's start, or, with no checkpoint at all in a server that holds keys, invalidated
     * wholesale). The first check after it takes a server without a checkpoint as it is: what it
     * holds was filled after that wholesale invalidation.
     */
    public void forgetForeignCheckpoint() {
        invalidatedByMove = true;
        for (CheckpointNodes.CheckpointNode node : CheckpointNodes.of(redis, group)) {
            Map<String, String> fields = node.commands().hgetall(node.checkpointKey());
            if (!fields.isEmpty() && !Objects.equals(fields.get(CLUSTER), cluster)) {
                node.commands().del(node.checkpointKey());
            }
        }
    }

    /** The region's consumer group this guard checks the checkpoint of. */
    public String group() {
        return group;
    }

    /**
     * @param group the region's consumer group: one checkpoint per deployment and region, so two
     *              pipelines sharing a Redis keep theirs apart
     */
    public RestoreGuard(RegionRedis redis, String group) {
        this(redis, group, () -> 0);
    }

    /**
     * @param partitionCount the partition count of the region's topic, 0 while unknown: the first
     *                       write after a restore pins the restored run_id on each of them
     */
    public RestoreGuard(RegionRedis redis, String group, IntSupplier partitionCount) {
        this.redis = Objects.requireNonNull(redis);
        this.group = group;
        this.partitionCount = partitionCount;
    }

    /**
     * Compares, on each node answering now, the checkpoint of every {@code assigned} partition not
     * verified there yet with the server: a partition whose offset was written to another server
     * (or, when the node holds no checkpoint at all, any partition of a node whose server changed
     * under this guard) was restored. A node without any checkpoint seen for the first time is a
     * first start (nothing was applied there that could be lost), judged once partitions are
     * assigned.
     *
     * @return the restore to handle, then to report with {@link #replayed}; empty when every
     *         assigned partition's data is where Lethe last wrote it
     * @throws RuntimeException when Redis does not answer (check again later)
     */
    public Optional<Restore> check(Set<Integer> assigned) {
        return check(assigned, () -> false);
    }

    /**
     * {@link #check(Set)}, where a server seen at this guard's first contact with the region's Redis
     * that holds keys but no checkpoint is judged by {@code appliedBefore}: true when the group committed offsets of the assigned
     * partitions before, so something was applied to a Redis whose data this is not known to hold
     * (restored from a snapshot older than any checkpoint, or replaced): its data's position is
     * unknown. False: a first start on a cache that already held entries.
     */
    public Optional<Restore> check(Set<Integer> assigned, BooleanSupplier appliedBefore) {
        recheck = false;
        List<String> nodes = new ArrayList<>();
        Map<String, String> runIds = new LinkedHashMap<>();
        Map<Integer, Long> checkpoint = new TreeMap<>();
        Set<Integer> stale = new TreeSet<>();
        boolean unknown = false;
        long keys = 0;
        // a master joining a Cluster this guard already watches is a resharding, not a restore
        boolean firstContact = known.isEmpty();
        for (CheckpointNodes.CheckpointNode node : CheckpointNodes.of(redis, group)) {
            String runId = node.runId();
            Map<String, String> fields = node.commands().hgetall(node.checkpointKey());
            String last = known.get(node.id());
            boolean serverChanged = last != null && !last.equals(runId);
            Set<Integer> done = verified.computeIfAbsent(node.id(), k -> new HashSet<>());
            if (serverChanged) {
                done.clear();
            }
            done.retainAll(assigned);
            String written = fields.get(RedisLayout.CHECKPOINT_RUN_ID);
            // offsets read on another Kafka cluster: no position in the log read now (a checkpoint without the field predates it)
            boolean foreign = cluster != null && fields.get(CLUSTER) != null && !cluster.equals(fields.get(CLUSTER));
            boolean foreignRestored = false;
            Set<Integer> restoredHere = new TreeSet<>();
            String restoredFrom = written;
            boolean noPosition = false;
            if (written == null && last == null) {
                if (assigned.isEmpty()) {
                    continue; // a server without a checkpoint: judged once this consumer owns partitions
                }
                noPosition = firstContact && !invalidatedByMove && node.commands().dbsize() > 0 && appliedBefore.getAsBoolean();
            }
            for (int p : assigned) {
                if (done.contains(p)) {
                    continue;
                }
                if (written == null) {
                    if (serverChanged || noPosition) {
                        restoredHere.add(p); // no checkpoint at all in a server that replaced the one Lethe wrote to
                    }
                    continue;
                }
                String identity = fields.getOrDefault(PARTITION_RUN_ID + p, written);
                if (!identity.equals(runId)) {
                    restoredHere.add(p);
                    restoredFrom = identity;
                    if (foreign) {
                        foreignRestored = true; // the data's position is not known on this cluster
                        continue;
                    }
                    String offset = fields.get(Integer.toString(p));
                    checkpoint.merge(p, offset == null ? 0L : Long.parseLong(offset), Math::min);
                }
            }
            if (restoredHere.isEmpty()) {
                if (!(serverChanged && written == null && assigned.isEmpty())) {
                    known.put(node.id(), runId);
                    done.addAll(assigned);
                } // else: an emptied server, judged once this consumer owns partitions
                continue;
            }
            nodes.add(node.id() + ": " + (serverChanged ? last : restoredFrom != null ? restoredFrom : "no checkpoint") + " -> " + runId);
            runIds.put(node.id(), runId);
            stale.addAll(restoredHere);
            unknown |= written == null || foreignRestored;
            keys += node.commands().dbsize();
        }
        if (nodes.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Restore(nodes, runIds, checkpoint, stale, Set.copyOf(assigned), unknown, keys));
    }

    /**
     * After a restore was handled (its partitions sought back and that position committed): writes
     * that position as the checkpoint of the replayed partitions into each restored node, if the
     * node is still the server it was checked as, and from then on trusts the node for every
     * partition assigned at the check. When a node changed again meanwhile, the next check finds it.
     */
    public void replayed(Restore restore, Map<Integer, Long> rewound) {
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
    public boolean recheckWanted() {
        return recheck;
    }

    /**
     * Records offsets the consumer committed after Redis acknowledged their batches, on every node,
     * for the partitions verified there, and only while the node is the server this guard verified
     * (checked inside the writing script): a node restored since keeps the checkpoint its data
     * came with, so the restore is replayed from it.
     */
    public void checkpoint(Map<Integer, Long> committed) {
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
    public boolean writeVerified(String key, Map<String, String> fields) {
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
    public void checkpointCommitted(Map<TopicPartition, OffsetAndMetadata> committed) {
        Map<Integer, Long> offsets = new HashMap<>();
        committed.forEach((tp, om) -> offsets.put(tp.partition(), om.offset()));
        try {
            checkpoint(offsets);
        } catch (RuntimeException e) {
            LOG.debug("checkpoint not written ({}); the next commit writes it", e.toString());
        }
    }
}
