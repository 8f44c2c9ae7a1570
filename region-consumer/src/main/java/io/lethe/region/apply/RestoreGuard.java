package io.lethe.region.apply;

import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.RedisLayout;
import java.util.ArrayList;
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
    /** Prefix of a partition's own run_id field in the checkpoint: {@code run_id:<partition>}. */
    static final String PARTITION_RUN_ID = RedisLayout.CHECKPOINT_RUN_ID + ":";
    /** Field of the checkpoint: the id of the Kafka cluster its offsets were read on (absent in checkpoints written before it was). */
    public static final String CLUSTER = "cluster";

    private final RegionRedis redis;
    private final String group;
    /** What this guard verified on each node, and the writes into a verified server only. */
    private final CheckpointWrites writes;
    /** A move to another cluster invalidated this Redis wholesale: no checkpoint at the first contact is then no restore. */
    private boolean invalidatedByMove;

    /**
     * The id of the Kafka cluster the region reads ({@link TopicMove#clusterId}): written with every
     * checkpoint, and a restored checkpoint of another cluster is not replayed from.
     */
    public void cluster(String id) {
        writes.cluster = id;
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
            if (!fields.isEmpty() && !Objects.equals(fields.get(CLUSTER), writes.cluster)) {
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
        this.writes = new CheckpointWrites(redis, group, partitionCount);
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
        writes.recheck = false;
        String cluster = writes.cluster;
        List<String> nodes = new ArrayList<>();
        Map<String, String> runIds = new LinkedHashMap<>();
        Map<Integer, Long> checkpoint = new TreeMap<>();
        Set<Integer> stale = new TreeSet<>();
        boolean unknown = false;
        long keys = 0;
        // a master joining a Cluster this guard already watches is a resharding, not a restore
        boolean firstContact = writes.known.isEmpty();
        for (CheckpointNodes.CheckpointNode node : CheckpointNodes.of(redis, group)) {
            String runId = node.runId();
            Map<String, String> fields = node.commands().hgetall(node.checkpointKey());
            String last = writes.known.get(node.id());
            boolean serverChanged = last != null && !last.equals(runId);
            Set<Integer> done = writes.verified.computeIfAbsent(node.id(), k -> new HashSet<>());
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
                    writes.known.put(node.id(), runId);
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
        writes.replayed(restore, rewound);
    }

    /** True when a write was refused since the last check: another server answers; check now. */
    public boolean recheckWanted() {
        return writes.recheckWanted();
    }

    /** Records committed offsets as the checkpoint of the partitions verified on each node ({@link CheckpointWrites#checkpoint}). */
    public void checkpoint(Map<Integer, Long> committed) {
        writes.checkpoint(committed);
    }

    /** HSET of {@code fields} into {@code key} only while its server is the one verified; false when refused. */
    public boolean writeVerified(String key, Map<String, String> fields) {
        return writes.writeVerified(key, fields);
    }

    /** {@link #checkpoint} of offsets just committed; a failure only delays it (the next commit writes it). */
    public void checkpointCommitted(Map<TopicPartition, OffsetAndMetadata> committed) {
        writes.checkpointCommitted(committed);
    }
}
