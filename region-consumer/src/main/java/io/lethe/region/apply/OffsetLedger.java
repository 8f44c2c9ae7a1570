package io.lethe.region.apply;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's offsets, across rebalances: which applied offsets wait to be committed, which
 * partitions the batch being applied lost meanwhile, and the rebalance listener. Rules:
 * <ul>
 *   <li>an offset enters the ledger only once its batch is applied ({@link #applied});</li>
 *   <li>a partition revoked while its batch was being applied does not commit it (the next
 *       owner applies it again, which is harmless);</li>
 *   <li>nothing is committed while {@code settled} says a dead letter is not acknowledged yet,
 *       so a crash re-delivers a record whose dead letter could still be lost;</li>
 *   <li>on revocation, what was applied for the revoked partitions is committed at once;</li>
 *   <li>each commit carries the partition's metadata of the moment (the region's applied
 *       watermark), so the group's offsets say how far behind the primary it is.</li>
 * </ul>
 * Single-threaded: only the consumer's thread calls it (Kafka runs the listener inside poll).
 */
final class OffsetLedger implements ConsumerRebalanceListener {
    private static final Logger LOG = LoggerFactory.getLogger(OffsetLedger.class);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    private final org.apache.kafka.clients.consumer.Consumer<?, ?> consumer;
    private final long commitIntervalNanos;
    private final LongSupplier nanoTime;
    private final BooleanSupplier settled;
    private final BooleanSupplier pauseAssigned;
    private final Consumer<Map<TopicPartition, OffsetAndMetadata>> committed;
    private final Runnable commitRetry;
    private final IntFunction<String> metadata;
    private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    private final Set<TopicPartition> revokedDuringBatch = new HashSet<>();
    private final Map<TopicPartition, Integer> generations = new HashMap<>();
    private long lastCommit;

    /**
     * @param settled       true when every dead letter is acknowledged (commits wait otherwise)
     * @param pauseAssigned true while the loop holds its partitions paused (newly assigned ones are paused too)
     * @param committed     told every committed map (the region checkpoints it in Redis)
     * @param commitRetry   told every commit that failed and will be tried again
     * @param metadata      the commit metadata of a partition at commit time (the region's applied watermark)
     */
    public OffsetLedger(org.apache.kafka.clients.consumer.Consumer<?, ?> consumer, Duration commitInterval, LongSupplier nanoTime,
            BooleanSupplier settled, BooleanSupplier pauseAssigned,
            Consumer<Map<TopicPartition, OffsetAndMetadata>> committed, Runnable commitRetry,
            IntFunction<String> metadata) {
        this.consumer = consumer;
        this.commitIntervalNanos = commitInterval.toNanos();
        this.nanoTime = nanoTime;
        this.settled = settled;
        this.pauseAssigned = pauseAssigned;
        this.committed = committed;
        this.commitRetry = commitRetry;
        this.metadata = metadata;
        this.lastCommit = nanoTime.getAsLong();
    }

    /** The partitions this consumer is assigned now. */
    Set<Integer> ownedPartitions() {
        Set<Integer> owned = new HashSet<>();
        consumer.assignment().forEach(tp -> owned.add(tp.partition()));
        return owned;
    }

    /** A batch starts being applied. */
    public void batchStarted() {
        revokedDuringBatch.clear();
    }

    /** Of a batch's next offsets, those of partitions this consumer still owns and did not lose during the batch. */
    public Map<TopicPartition, OffsetAndMetadata> stillOwned(Map<TopicPartition, OffsetAndMetadata> offsets) {
        Map<TopicPartition, OffsetAndMetadata> owned = new HashMap<>(offsets);
        owned.keySet().removeAll(revokedDuringBatch);
        owned.keySet().retainAll(consumer.assignment());
        return owned;
    }

    /** Offsets whose records are applied: committed at the next {@link #commitIfDue()}. Never moves one back. */
    public void applied(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((tp, om) -> pending.merge(tp, om, (a, b) -> a.offset() >= b.offset() ? a : b));
    }

    /**
     * Drops what waits for {@code tp} (the consumer was sought back over it). Offsets of batches
     * applied before, still held elsewhere (the replica gate), must not enter the ledger after
     * this: see {@link #generation} and {@link #appliedIfCurrent}.
     */
    public void forget(TopicPartition tp) {
        pending.remove(tp);
        generations.merge(tp, 1, Integer::sum);
    }

    /** How often {@code tp} was sought back: a held batch's offsets count only while it is unchanged. */
    public Map<TopicPartition, Integer> generation(Collection<TopicPartition> partitions) {
        Map<TopicPartition, Integer> out = new HashMap<>();
        partitions.forEach(tp -> out.put(tp, generations.getOrDefault(tp, 0)));
        return out;
    }

    /**
     * {@link #applied} of the offsets of partitions not sought back since {@code generation} was
     * taken: a batch applied before a seek back must not commit past the position replayed from.
     */
    public void appliedIfCurrent(Map<TopicPartition, OffsetAndMetadata> offsets, Map<TopicPartition, Integer> generation) {
        Map<TopicPartition, OffsetAndMetadata> current = new HashMap<>(offsets);
        current.keySet().removeIf(tp -> !generation.getOrDefault(tp, 0).equals(generations.getOrDefault(tp, 0)));
        applied(current);
    }

    /** True when none of {@code generation}'s partitions was sought back since it was taken. */
    public boolean current(Map<TopicPartition, Integer> generation) {
        return generation.entrySet().stream().allMatch(e -> e.getValue().equals(generations.getOrDefault(e.getKey(), 0)));
    }

    /** Whether applied offsets wait for the next commit. */
    public boolean hasPending() {
        return !pending.isEmpty();
    }

    /** What waits to be committed. */
    public Map<TopicPartition, OffsetAndMetadata> pending() {
        return Map.copyOf(pending);
    }

    /** Commits when the commit interval has passed since the last commit. */
    public void commitIfDue() {
        if (nanoTime.getAsLong() - lastCommit >= commitIntervalNanos) {
            commit();
        }
    }

    /** Commits what waits, for the partitions still owned, unless a dead letter is unacknowledged. */
    public void commit() {
        lastCommit = nanoTime.getAsLong();
        if (pending.isEmpty() || !settled.getAsBoolean()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> commit = withMetadata(pending);
        commit.keySet().retainAll(consumer.assignment());
        try {
            if (!commit.isEmpty()) {
                consumer.commitSync(commit, COMMIT_TIMEOUT);
                committed.accept(commit);
            }
            pending.clear();
        } catch (CommitFailedException e) {
            // the partitions moved to another member, which applies those records again
            pending.clear();
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            commitRetry.run();
            LOG.warn("committing offsets {} failed ({}); will retry", commit, e.toString());
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> withMetadata(Map<TopicPartition, OffsetAndMetadata> offsets) {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        offsets.forEach((tp, om) -> out.put(tp, new OffsetAndMetadata(om.offset(), metadata.apply(tp.partition()))));
        return out;
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        revokedDuringBatch.addAll(partitions);
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata offset = pending.remove(tp);
            if (offset != null) {
                commit.put(tp, offset);
            }
        }
        if (commit.isEmpty() || !settled.getAsBoolean()) {
            return; // the next owner applies them again
        }
        commit = withMetadata(commit);
        try {
            consumer.commitSync(commit, COMMIT_TIMEOUT);
            committed.accept(commit);
        } catch (KafkaException e) {
            LOG.warn("commit on revocation of {} failed ({}); the next owner applies them again", partitions, e.toString());
        }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
        // lost, not revoked: another member may own them already, so nothing is committed
        revokedDuringBatch.addAll(partitions);
        partitions.forEach(pending::remove);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        if (pauseAssigned.getAsBoolean()) {
            consumer.pause(partitions);
        }
    }
}
