package io.lethe.region.apply;

import io.lethe.schemas.InvalidationEvent;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches applied while a pattern sweep they follow (their own pattern's, or an older one) still
 * runs: their key invalidations are in Redis, their offsets and heartbeats, and their pattern
 * events' latency and listeners, wait until {@link PatternSweeps#done()} reaches the sweep they
 * await. Released oldest first; fetching pauses while too many wait.
 */
final class SweepHolds {
    private static final Logger LOG = LoggerFactory.getLogger(SweepHolds.class);
    /** Most batches held behind running sweeps before fetching pauses. */
    static final int MAX_HELD_FOR_SWEEPS = 10_000;

    private final String region;
    private final Consumer<String, byte[]> consumer;
    private final OffsetLedger ledger;
    private final RegionDeadLetters deadLetters;
    private final RegionMetrics metrics;
    /** Batches applied whose offsets and heartbeats wait for a sweep (theirs or an older one), oldest first. */
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private boolean paused;

    /**
     * A batch applied while a sweep it follows still runs: its offsets and heartbeats, and its
     * pattern events' latency and listeners, wait until {@link PatternSweeps#done()} reaches {@code awaited}.
     */
    private record Held(long awaited, Map<TopicPartition, OffsetAndMetadata> offsets, Map<TopicPartition, Integer> generation,
            Runnable heartbeatsApplied, List<InvalidationEvent> patterns,
            Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins) {
    }

    SweepHolds(String region, Consumer<String, byte[]> consumer, OffsetLedger ledger,
            RegionDeadLetters deadLetters, RegionMetrics metrics) {
        this.region = region;
        this.consumer = consumer;
        this.ledger = ledger;
        this.deadLetters = deadLetters;
        this.metrics = metrics;
    }

    boolean isEmpty() {
        return held.isEmpty();
    }

    /** True while fetching is paused because too many batches wait. */
    boolean paused() {
        return paused;
    }

    /**
     * Holds a batch applied behind the sweep {@code awaited}: only its patterns' records are kept (a
     * sweep's poison keys are dead-lettered with them), so held batches stay small.
     */
    void hold(long awaited, Map<TopicPartition, OffsetAndMetadata> owned, Runnable heartbeatsApplied, List<InvalidationEvent> events,
            Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins) {
        List<InvalidationEvent> patterns = events.stream().filter(e -> e.scope().isPattern()).toList();
        Map<InvalidationEvent, ConsumerRecord<String, byte[]>> patternOrigins = new IdentityHashMap<>();
        patterns.forEach(e -> patternOrigins.put(e, origins.get(e)));
        held.addLast(new Held(awaited, owned, ledger.generation(owned.keySet()), heartbeatsApplied, patterns, patternOrigins));
    }

    /**
     * Releases, oldest first, the batches held behind sweeps that are done: their heartbeats raise
     * the applied watermark (unless a partition was sought back since), their offsets go to the
     * ledger, their pattern events to {@code patternsApplied}; a finished sweep's poison keys are
     * dead-lettered first. Fetching pauses while too many batches wait, and resumes once half of them
     * went, unless {@code otherwiseHeld} still holds the partitions.
     */
    void release(PatternSweeps sweeps, AppliedListener patternsApplied, BooleanSupplier otherwiseHeld) {
        PatternSweeps.Progress progress = sweeps.takeFinished();
        if (!progress.finished().isEmpty()) {
            Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins = new IdentityHashMap<>();
            held.forEach(h -> origins.putAll(h.origins()));
            for (PatternSweeps.Finished f : progress.finished()) {
                deadLetters.sendPoisoned(f.applied().poisoned(), origins);
                f.applied().results().forEach(metrics::applied);
            }
        }
        while (!held.isEmpty() && held.peekFirst().awaited() <= progress.done()) {
            Held h = held.removeFirst();
            if (ledger.current(h.generation())) {
                h.heartbeatsApplied().run();
            }
            ledger.appliedIfCurrent(h.offsets(), h.generation());
            patternsApplied.applied(h.patterns());
        }
        if (!paused && held.size() >= MAX_HELD_FOR_SWEEPS) {
            consumer.pause(consumer.assignment());
            paused = true;
            LOG.warn("region {}: {} batches wait behind pattern sweeps ({} sweeps in the backlog); fetching paused",
                    region, held.size(), sweeps.backlog());
        } else if (paused && held.size() < MAX_HELD_FOR_SWEEPS / 2) {
            paused = false;
            if (!otherwiseHeld.getAsBoolean()) {
                consumer.resume(consumer.paused());
            }
        }
    }
}
