package io.lethe.region.apply;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica gate's queue: batches applied once, each applied again when the replica has
 * replayed the commit of its newest change, and only then handed to the offset ledger. A crash
 * before that re-delivers the batch, which is gated again: nothing a lagging replica could refill
 * survives the replica's lag. When too many batches wait, fetching pauses (lag grows visibly).
 *
 * <p>A batch holding an invalidation without an LSN (a reset made where no LSN was known: offsets
 * lost to retention, a malformed change) was made at a primary position nobody recorded, but
 * before it arrived here: it waits until the replica replayed the primary's position read after
 * it was held, never passes at once.
 */
final class GatedBatches {
    private static final Logger LOG = LoggerFactory.getLogger(GatedBatches.class);
    /** Most batches held for the replica before fetching pauses. */
    static final int MAX_GATED_BATCHES = 2000;

    private final ReplayPosition gate;
    private final Consumer<?, ?> consumer;
    private final OffsetLedger ledger;
    private final RegionMetrics metrics;
    private final String region;
    private final ArrayDeque<Gated> gated = new ArrayDeque<>();
    private boolean paused;

    private static final class Gated {
        final BatchPlan plan;
        final Map<TopicPartition, OffsetAndMetadata> offsets;
        /** The ledger's seek-back generation of each partition when held: a partition sought back meanwhile does not commit. */
        final Map<TopicPartition, Integer> generation;
        final Runnable released;
        final long heldAt;
        long maxLsn;
        /** True while the batch holds an invalidation without an LSN and the primary's position after it is not known yet. */
        boolean unresolved;

        Gated(BatchPlan plan, Map<TopicPartition, OffsetAndMetadata> offsets, Map<TopicPartition, Integer> generation, long maxLsn,
                Runnable released, long heldAt, boolean unresolved) {
            this.plan = plan;
            this.offsets = offsets;
            this.generation = generation;
            this.maxLsn = maxLsn;
            this.released = released;
            this.heldAt = heldAt;
            this.unresolved = unresolved;
        }
    }

    public GatedBatches(ReplayPosition gate, Consumer<?, ?> consumer, OffsetLedger ledger, RegionMetrics metrics, String region) {
        this.gate = gate;
        this.consumer = consumer;
        this.ledger = ledger;
        this.metrics = metrics;
        this.region = region;
    }

    /**
     * Holds an applied batch until the replica has replayed {@code maxLsn}; {@code released} runs
     * once it was applied again (the batch's heartbeats count as applied only then: before, a
     * reader on the lagging replica could still refill what the batch deleted).
     */
    public void hold(BatchPlan plan, Map<TopicPartition, OffsetAndMetadata> offsets, long maxLsn, Runnable released) {
        boolean noLsn = plan.all().stream().anyMatch(e -> e.visibleAfter() <= 0);
        // a partition sought back meanwhile (a Redis restore) does not commit this batch's offsets
        gated.addLast(new Gated(plan, offsets, ledger.generation(offsets.keySet()), maxLsn, released, System.nanoTime(), noLsn));
        gate.applied(maxLsn);
    }

    /** Whether applied batches wait for the replica. */
    public boolean holding() {
        return !gated.isEmpty();
    }

    /** True while fetching is paused because too many batches wait. */
    public boolean paused() {
        return paused;
    }

    /** Applies again, oldest first, every batch the replica has replayed past, and releases its offsets. */
    public void release(Applying applying, BooleanSupplier otherwiseHeld) throws InterruptedException {
        while (!gated.isEmpty()) {
            Gated batch = gated.peekFirst();
            if (batch.unresolved) {
                long primary = gate.primaryAfter(batch.heldAt);
                if (primary < 0) {
                    break;
                }
                batch.maxLsn = Math.max(batch.maxLsn, primary);
                batch.unresolved = false;
                gate.applied(batch.maxLsn);
            }
            long replayed = gate.replayed();
            if (replayed < 0 || replayed < batch.maxLsn) {
                break;
            }
            if (applying.apply(batch.plan) == null) {
                return;
            }
            metrics.reapplied(batch.plan.keys().size() + batch.plan.patterns().size());
            gated.removeFirst();
            // its heartbeats raise the applied watermark only while no partition of it was sought back
            // (a restore replays from before them: the watermark must wait for the replay)
            if (ledger.current(batch.generation)) {
                batch.released.run();
            }
            ledger.appliedIfCurrent(batch.offsets, batch.generation);
        }
        if (!paused && gated.size() >= MAX_GATED_BATCHES) {
            consumer.pause(consumer.assignment());
            paused = true;
            LOG.warn("region {}: {} batches wait for the replica to replay; fetching paused", region, gated.size());
        } else if (paused && gated.size() < MAX_GATED_BATCHES / 2) {
            paused = false;
            // not while the sweeps' back-pressure, a retry or a configuration hold still keeps them paused
            if (!otherwiseHeld.getAsBoolean()) {
                consumer.resume(consumer.paused());
            }
        }
        metrics.gated(gated.size());
    }
}
