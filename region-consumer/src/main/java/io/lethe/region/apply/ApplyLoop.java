package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.time.Micros;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.trace.Span;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;

/**
 * The region's poll loop: each batch is admitted (refusals and malformed records to the DLQ),
 * applied to Redis until Redis acknowledges it (partitions paused meanwhile, so the consumer stays
 * in its group and nothing later is applied first), its poison keys widened and dead-lettered,
 * and only then its offsets handed to the {@link OffsetLedger} (or the replica gate's queue).
 * Kafka errors are classified once: configuration errors keep it retrying with health DOWN.
 * Its parts: {@link RegionPoll} (reading), {@link UntilAcknowledged} (the retries of a batch),
 * {@link SweepHolds} (batches behind pattern sweeps), {@link FirstInvalidations} (what
 * {@link StartupFeed} asks for before and between the first batches), {@link ReplayReports},
 * {@link ApplySpans}.
 */
final class ApplyLoop {
    /**
     * How long a poll waits for records while the loop has something of its own to finish (offsets to
     * commit, batches held for the replica or for pattern sweeps, a first feed's proof): it is how often
     * those are looked at. Records end a poll at once, whatever its timeout.
     */
    private static final long BUSY_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String region;
    private final Consumer<String, byte[]> consumer;
    private final Applier applier;
    private final Admission admission;
    private final OffsetLedger ledger;
    private final RegionDeadLetters deadLetters;
    private final GatedBatches gated;
    private final RestoreReplay restore;
    private final MarkerView view;
    private final RegionMetrics metrics;
    private final Clock clock;
    private final RegionPoll polling;
    private final UntilAcknowledged untilAcknowledged;
    private final SweepHolds heldForSweeps;
    private final ReplayReports replays;
    private final FirstInvalidations first = new FirstInvalidations();
    private final ApplySpans spans;
    private final AppliedEvents appliedEvents;
    private final RestoreSchedule restoreChecks = new RestoreSchedule();
    private final AppliedWatermarks watermarks;
    private volatile boolean running = true;
    private volatile long appliedBatches;
    /** Records of the batch being applied: fetched, so not in the consumer's lag, but not applied yet. */
    private volatile int inFlight;
    private final RegionTopicLag topicLag;
    private AppliedLsnPublisher appliedLsn;

    /** Continues the traces of sampled invalidations with {@code tracing} (tracing.* of lethe.yml). Call before {@link #run()}. */
    public void tracing(Tracing tracing) {
        spans.tracing(tracing);
    }

    public ApplyLoop(LetheConfig config, String region, Consumer<String, byte[]> consumer, Applier applier, OffsetLedger ledger,
            RegionDeadLetters deadLetters, GatedBatches gated, RestoreReplay restore, RegionMetrics metrics,
            Misconfiguration misconfiguration, Clock clock, List<AppliedListener> listeners) {
        this.region = region;
        this.consumer = consumer;
        this.applier = applier;
        this.admission = new Admission(config, metrics::unsignedDelete);
        this.view = restore == null ? new MarkerView(region, null, consumer, misconfiguration, metrics, null) : restore.view(); // tests
        admission.holdOnSkew(view::onRefusal);
        view.loop(this::waitPolling, () -> restore.check(this::applyAndGate), this::applyAndGate);
        this.ledger = ledger;
        this.deadLetters = deadLetters;
        this.gated = gated;
        this.restore = restore;
        this.metrics = metrics;
        this.clock = clock;
        this.watermarks = metrics.watermarks();
        this.topicLag = new RegionTopicLag(consumer, metrics);
        this.appliedEvents = new AppliedEvents(region, metrics, topicLag, listeners, clock);
        this.heldForSweeps = new SweepHolds(region, consumer, ledger, deadLetters, metrics);
        this.untilAcknowledged = new UntilAcknowledged(region, consumer, applier, metrics, misconfiguration,
                new Backoff(config.apply().retryBackoffMin(), config.apply().retryBackoffMax()), this::waitPolling,
                () -> gated != null && gated.paused() || heldForSweeps.paused() || view.holding());
        this.replays = new ReplayReports(region, metrics);
        this.spans = new ApplySpans(region);
        this.polling = new RegionPoll(region, consumer, restore, metrics, misconfiguration,
                new Backoff(config.apply().retryBackoffMin(), config.apply().retryBackoffMax()), untilAcknowledged::retrying,
                this::applyAndGate);
    }

    /** From now on, the region's applied watermark is published after every batch (read-your-writes). */
    public void publishAppliedLsn(AppliedLsnPublisher publisher) {
        this.appliedLsn = publisher;
    }

    /** True while fetching must stay paused (a batch being retried, or the gate's queue full). */
    public boolean holdsPartitions() {
        return untilAcknowledged.retrying() || gated != null && gated.paused() || heldForSweeps.paused() || view.holding();
    }

    public boolean isRetrying() {
        return untilAcknowledged.retrying();
    }

    public long appliedBatches() {
        return appliedBatches;
    }

    public void stop() {
        running = false;
    }

    /** What the loop invalidates first or once a first feed is proven, and what runs once it started (set before {@link #run()}). */
    FirstInvalidations first() {
        return first;
    }

    /**
     * The highest watermark LSN this region applied before (its published applied watermark in
     * Redis): the LSN ceiling of {@code EventRules} holds from the first record. Call before {@link #run()}.
     */
    public void seedLsnCeiling(long lsn) {
        admission.seed(lsn);
    }

    /**
     * Judges every upsert against {@code floor} from the first record on ({@link Admission}): one at
     * or below it is applied as a delete, counted ({@code lethe.region.replayed.upserts}) and
     * logged, at most once a minute with the count since; so is one read while its partition has no
     * floor ({@code lethe.region.unproven.upserts{reason=no-floor}}). Call before {@link #run()}.
     */
    public void judgeReplaysBy(ReplayFloor floor) {
        admission.replayFloor(floor, replays::replayed, replays::noFloor);
    }

    /** Runs until {@link #stop()} (then throws {@link WakeupException}) or an unexpected error; holds on a skew ({@link MarkerView}). */
    public void run() throws InterruptedException {
        if (!first.start(restore, this::applyAndGate)) {
            return; // closed before Redis acknowledged it: the next start finds the move again
        }
        while (running) {
            if (!first.firstFeedIfProven(restore, this::applyAndGate)) {
                return; // closed before Redis acknowledged it: the next start finds the first feed again
            }
            ConsumerRecords<String, byte[]> records = polling.poll(pollTimeout());
            if (restoreChecks.due(consumer.assignment(), restore.recheckWanted())) {
                // before applying: a partition just assigned is compared with the region's Redis first
                restoreChecks.checking(consumer.assignment());
                Set<TopicPartition> rewound = restore.check(this::applyAndGate);
                records = RegionPoll.without(records, rewound);
                if ((records = view.checkedAfter(rewound, records)) == null) {
                    return; // closed while the group runs another configuration
                }
            }
            if (!records.isEmpty()) {
                process(records);
            }
            if (gated != null) {
                gated.release(this::applyUntilAcknowledged, () -> untilAcknowledged.retrying() || heldForSweeps.paused() || view.holding());
            }
            PatternSweeps sweeps = applier.sweeps();
            if (sweeps != null) {
                heldForSweeps.release(sweeps, this::patternsApplied,
                        () -> untilAcknowledged.retrying() || gated != null && gated.paused() || view.holding());
            }
            if (appliedLsn != null) {
                Set<Integer> owned = ledger.ownedPartitions();
                appliedLsn.publish(owned);
                appliedLsn.published(owned).ifPresent(metrics::appliedLsn);
            }
            ledger.commitIfDue();
            updateLag();
        }
    }

    /**
     * {@link #BUSY_POLL_NANOS} while anything waits on the loop; idle, until the next restore check is
     * due (at most a second): an idle region then wakes a few times a second, not ten, and nothing it
     * does waits longer (records end the poll; the restore check keeps its second).
     */
    private Duration pollTimeout() {
        if (ledger.hasPending() || gated != null && gated.holding() || !heldForSweeps.isEmpty() || first.firstFeedPending()
                || restore.recheckWanted()) {
            return Duration.ofNanos(BUSY_POLL_NANOS);
        }
        return Duration.ofNanos(Math.max(BUSY_POLL_NANOS, Math.min(RestoreSchedule.EVERY_NANOS, restoreChecks.nanosUntilDue())));
    }

    private void process(ConsumerRecords<String, byte[]> records) throws InterruptedException {
        ledger.batchStarted();
        inFlight = records.count();
        Map<ConsumerRecord<String, byte[]>, Span> started = spans.start(records);
        Admission.Admitted batch = view.admitOrHold(admission, records, deadLetters);
        if (batch == null) {
            inFlight = 0; // held: nothing of it applied or committed, read again
            return;
        }
        List<InvalidationEvent> events = batch.events();
        BatchPlan plan = BatchPlan.of(events);
        // with a replica gate every batch is applied twice, whole: its sweeps are done in place
        PatternSweeps sweeps = gated == null ? applier.sweeps() : null;
        Applied applied = applyUntilAcknowledged(plan, sweeps != null);
        ApplySpans.end(started, batch, events.size(), applied != null);
        if (applied == null) {
            return;
        }
        inFlight = 0;
        var heartbeats = batch.watermarks(); // captured alone: a batch held behind a sweep keeps no more of its records than it needs
        Runnable heartbeatsApplied = () -> heartbeats.forEach((partition, marks) -> marks.forEach(w -> watermarks.applied(partition, w)));
        Map<TopicPartition, OffsetAndMetadata> owned = ledger.stillOwned(batch.offsets());
        // its own sweeps, or behind a sweep still running: its key invalidations are applied, its offsets and heartbeats wait
        // for the sweep (a batch with patterns is always held, so a sweep that finished at once finds its records for the DLQ)
        boolean held = sweeps != null && (!plan.patterns().isEmpty() || !heldForSweeps.isEmpty() || sweeps.done() < sweeps.submitted());
        List<InvalidationEvent> appliedNow = held ? events.stream().filter(e -> !e.scope().isPattern()).toList() : events;
        if (gated == null && !held) {
            heartbeatsApplied.run();
        }
        deadLetters.sendPoisoned(applied.poisoned(), batch.origins());
        appliedEvents.latency(appliedNow);
        applied.results().forEach(metrics::applied);
        metrics.applied("superseded", plan.superseded());
        metrics.batch(events.size());
        if (gated != null) {
            // a standby shows a change only once it replayed its transaction's COMMIT, not the change itself
            gated.hold(plan, owned, events.stream().mapToLong(InvalidationEvent::visibleAfter).max().orElse(0), heartbeatsApplied);
        } else if (held) {
            heldForSweeps.hold(sweeps.submitted(), owned, heartbeatsApplied, events, batch.origins());
        } else {
            ledger.applied(owned);
        }
        appliedBatches++;
        appliedEvents.tell(appliedNow);
    }

    /** A held batch's pattern events, applied once their sweep is done: their latency, and the listeners. */
    private void patternsApplied(List<InvalidationEvent> patterns) {
        appliedEvents.latency(patterns);
        appliedEvents.tell(patterns);
    }

    /**
     * Applies what the region does on its own (the wholesale invalidation after a restore or lost
     * offsets) and, with a replica gate, holds it to be applied again like any batch: it carries no
     * LSN, so it waits for the replica to replay the primary's position after it (a reader on a
     * lagging replica could otherwise refill what it deleted, for good).
     */
    private Applied applyAndGate(BatchPlan plan) throws InterruptedException {
        return applyAndGate(plan, null);
    }

    /** As {@link #applyAndGate(BatchPlan)}; {@code done} runs once the plan is applied for good (after the gate, if any). */
    private Applying applyAndGate(Runnable done) {
        return plan -> applyAndGate(plan, done);
    }

    private Applied applyAndGate(BatchPlan plan, Runnable done) throws InterruptedException {
        Applied applied = applyUntilAcknowledged(plan);
        if (applied != null && gated != null) {
            gated.hold(plan, Map.of(), 0, done == null ? () -> {
            } : done);
        } else if (applied != null && done != null) {
            done.run();
        }
        return applied;
    }

    Applied applyUntilAcknowledged(BatchPlan plan) throws InterruptedException {
        return applyUntilAcknowledged(plan, false);
    }

    /** As {@link #applyUntilAcknowledged(BatchPlan)}; with {@code deferSweeps}, the plan's sweeps go on on the sweep worker. */
    private Applied applyUntilAcknowledged(BatchPlan plan, boolean deferSweeps) throws InterruptedException {
        return untilAcknowledged.apply(plan, deferSweeps);
    }

    /** Waits, polling with every partition paused so the consumer stays in its group. */
    private boolean waitPolling(Duration wait) throws InterruptedException {
        return polling.waitPaused(wait, () -> running, () -> {
            deadLetters.settled();
            updateLag();
        });
    }

    private void updateLag() {
        topicLag.update(inFlight, Micros.of(clock.instant()));
    }
}
