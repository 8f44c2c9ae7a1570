package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.failure.KafkaFailures;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's poll loop: each batch is admitted (refusals and malformed records to the DLQ),
 * applied to Redis until Redis acknowledges it (partitions paused meanwhile, so the consumer stays
 * in its group and nothing later is applied first), its poison keys widened and dead-lettered,
 * and only then its offsets handed to the {@link OffsetLedger} (or the replica gate's queue).
 * Kafka errors are classified once: configuration errors keep it retrying with health DOWN.
 */
final class ApplyLoop {
    private static final Logger LOG = LoggerFactory.getLogger(ApplyLoop.class);
    private static final long RESTORE_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
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
    private final RegionMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final Clock clock;
    private final Backoff backoff;
    private final Backoff pollBackoff;
    private final List<AppliedListener> listeners;
    private final AppliedWatermarks watermarks;
    private volatile boolean running = true;
    private volatile boolean retrying;
    private volatile long appliedBatches;
    /** Records of the batch being applied: fetched, so not in the consumer's lag, but not applied yet. */
    private volatile int inFlight;
    private final RegionTopicLag topicLag;
    private long lastRestoreCheck = System.nanoTime() - RESTORE_CHECK_NANOS;
    private Set<TopicPartition> lastAssignment = Set.of();
    private String firstWholesale;
    private long firstWholesaleLsn;
    private List<String> firstWholesaleNamespaces = List.of();
    /** Globs of namespaces no longer configured, recorded while they were (see {@link #invalidateFirst}). */
    private Map<String, List<String>> firstWholesaleFormerGlobs = Map.of();
    private Runnable whenStarted;
    /** A first feed's wholesale invalidation, done once its proof arrived (see {@link #invalidateWhenProven}). */
    private String firstFeed;
    private List<String> firstFeedNamespaces = List.of();
    private Runnable firstFeedDone;
    private CompletableFuture<Long> firstFeedProof;
    private AppliedLsnPublisher appliedLsn;
    private Tracing tracing = Tracing.OFF;

    /** Span name of a region's apply of a sampled invalidation: from its batch's admission until Redis acknowledged the batch. */
    public static final String SPAN = "lethe.region.apply";
    private static final AttributeKey<Long> PARTITION = AttributeKey.longKey("messaging.source.partition.id");
    private static final AttributeKey<Long> LSN = AttributeKey.longKey("lethe.lsn");

    /** Continues the traces of sampled invalidations with {@code tracing} (tracing.* of lethe.yml). Call before {@link #run()}. */
    public void tracing(Tracing tracing) {
        this.tracing = tracing;
    }

    /** Most batches held behind running sweeps before fetching pauses. */
    static final int MAX_HELD_FOR_SWEEPS = 10_000;
    /** Batches applied whose offsets and heartbeats wait for a sweep (theirs or an older one), oldest first. */
    private final ArrayDeque<HeldForSweep> heldForSweeps = new ArrayDeque<>();
    private boolean sweepsPaused;

    /**
     * A batch applied while a sweep it follows (its own pattern's, or an older one) still runs:
     * its offsets and heartbeats, and its pattern events' latency and listeners, wait until
     * {@link PatternSweeps#done()} reaches {@code awaited}.
     */
    private record HeldForSweep(long awaited, Map<TopicPartition, OffsetAndMetadata> offsets, Map<TopicPartition, Integer> generation,
            Runnable heartbeatsApplied, List<InvalidationEvent> patterns,
            Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins) {
    }

    public ApplyLoop(LetheConfig config, String region, Consumer<String, byte[]> consumer, Applier applier, OffsetLedger ledger,
            RegionDeadLetters deadLetters, GatedBatches gated, RestoreReplay restore, RegionMetrics metrics,
            Misconfiguration misconfiguration, Clock clock, List<AppliedListener> listeners) {
        this.region = region;
        this.consumer = consumer;
        this.applier = applier;
        this.admission = new Admission(config, metrics::unsignedDelete);
        this.ledger = ledger;
        this.deadLetters = deadLetters;
        this.gated = gated;
        this.restore = restore;
        this.metrics = metrics;
        this.misconfiguration = misconfiguration;
        this.clock = clock;
        this.backoff = new Backoff(config.apply().retryBackoffMin(), config.apply().retryBackoffMax());
        this.pollBackoff = new Backoff(config.apply().retryBackoffMin(), config.apply().retryBackoffMax());
        this.listeners = listeners;
        this.watermarks = metrics.watermarks();
        this.topicLag = new RegionTopicLag(consumer, metrics);
    }

    /** From now on, the region's applied watermark is published after every batch (read-your-writes). */
    public void publishAppliedLsn(AppliedLsnPublisher publisher) {
        this.appliedLsn = publisher;
    }

    private Set<Integer> ownedPartitions() {
        Set<Integer> owned = new HashSet<>();
        consumer.assignment().forEach(tp -> owned.add(tp.partition()));
        return owned;
    }

    /** True while fetching must stay paused (a batch being retried, or the gate's queue full). */
    public boolean holdsPartitions() {
        return retrying || gated != null && gated.paused() || sweepsPaused;
    }

    public boolean isRetrying() {
        return retrying;
    }

    public long appliedBatches() {
        return appliedBatches;
    }

    public void stop() {
        running = false;
    }

    /**
     * Before the first record: invalidates {@code namespaces} wholesale at source position
     * {@code lsn} (a topic move), then runs {@code then} once Redis acknowledged it. Call before {@link #run()}.
     */
    public void invalidateFirst(String why, long lsn, List<String> namespaces, Runnable then) {
        invalidateFirst(why, lsn, namespaces, Map.of(), then);
    }

    /**
     * As {@link #invalidateFirst(String, long, List, Runnable)}; a namespace of {@code namespaces} no
     * longer configured is invalidated by its {@code formerGlobs} (recorded while it was).
     */
    public void invalidateFirst(String why, long lsn, List<String> namespaces, Map<String, List<String>> formerGlobs, Runnable then) {
        this.firstWholesale = why;
        this.firstWholesaleLsn = lsn;
        this.firstWholesaleNamespaces = List.copyOf(namespaces);
        this.firstWholesaleFormerGlobs = Map.copyOf(formerGlobs);
        this.whenStarted = then;
    }

    /**
     * Invalidates {@code namespaces} wholesale once {@code proof} completes with a source position
     * (upserts at or below it are then deletes), between two batches, then runs {@code then} (after
     * the replica gate, if any). Until then the region applies what it reads as usual. Call before {@link #run()}.
     */
    public void invalidateWhenProven(String why, List<String> namespaces, CompletableFuture<Long> proof, Runnable then) {
        this.firstFeed = why;
        this.firstFeedNamespaces = List.copyOf(namespaces);
        this.firstFeedProof = proof;
        this.firstFeedDone = then;
    }

    /** The proven invalidation, once its proof arrived; false when the loop closed before Redis acknowledged it. */
    private boolean firstFeedIfProven() throws InterruptedException {
        if (firstFeed == null || !firstFeedProof.isDone() || firstFeedProof.isCompletedExceptionally()) {
            return true;
        }
        if (!restore.invalidateWholesaleNow(firstFeed, firstFeedProof.join(), firstFeedNamespaces, Map.of(),
                plan -> applyAndGate(plan, firstFeedDone))) {
            return false;
        }
        firstFeed = null;
        return true;
    }

    /** Runs {@code then} once, when the loop starts (after {@link #invalidateFirst}'s invalidation, if any). Call before {@link #run()}. */
    public void whenStarted(Runnable then) {
        this.whenStarted = then;
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
        admission.replayFloor(floor, r -> {
            metrics.replayedUpsert();
            replayedSinceLog++;
            long now = System.nanoTime();
            if (replayedLoggedAt == 0 || now - replayedLoggedAt >= REPLAY_LOG_NANOS) {
                LOG.warn("region {}: {} upsert(s) at or below what partition {} already carried applied as deletes since the last "
                        + "report (latest at {}-{}@{}): records delivered again, or old records written back into the topic; "
                        + "a count that rises without consumer restarts means someone does (docs/runbook.md, \"What a region refuses\")",
                        region, replayedSinceLog, r.partition(), r.topic(), r.partition(), r.offset());
                replayedSinceLog = 0;
                replayedLoggedAt = now;
            }
        }, r -> {
            metrics.unprovenUpserts("no-floor", 1);
            noFloorSinceLog++;
            long now = System.nanoTime();
            if (noFloorLoggedAt == 0 || now - noFloorLoggedAt >= REPLAY_LOG_NANOS) {
                LOG.warn("region {}: {} upsert(s) applied as deletes since the last report because partition {} has no replay floor yet "
                        + "(latest at {}-{}@{}): no heartbeat of every changes partition came through it since the start, a partition "
                        + "was added or the source's history changed; they cost misses until its heartbeats come (one heartbeat interval "
                        + "plus the lag)", region, noFloorSinceLog, r.partition(), r.topic(), r.partition(), r.offset());
                noFloorSinceLog = 0;
                noFloorLoggedAt = now;
            }
        });
    }

    private long noFloorSinceLog;
    private long noFloorLoggedAt;

    private static final long REPLAY_LOG_NANOS = TimeUnit.MINUTES.toNanos(1);
    private long replayedSinceLog;
    private long replayedLoggedAt;

    /** Runs until {@link #stop()} (then throws {@link WakeupException} from the consumer) or an unexpected error. */
    public void run() throws InterruptedException {
        if (firstWholesale != null) {
            // with a replica gate, done only once the invalidation was applied again after the replica replayed past it
            // (a restart before that finds the move again): a reader's refill from the lagging replica cannot outlive it
            if (!restore.invalidateWholesale(firstWholesale, firstWholesaleLsn, firstWholesaleNamespaces, firstWholesaleFormerGlobs,
                    plan -> applyAndGate(plan, whenStarted))) {
                return; // closed before Redis acknowledged it: the next start finds the move again
            }
        } else if (whenStarted != null) {
            whenStarted.run();
        }
        while (running) {
            if (!firstFeedIfProven()) {
                return; // closed before Redis acknowledged it: the next start finds the first feed again
            }
            ConsumerRecords<String, byte[]> records = poll(pollTimeout());
            if (restoreCheckDue()) {
                // before applying: a partition just assigned is compared with the region's Redis first
                lastRestoreCheck = System.nanoTime();
                lastAssignment = Set.copyOf(consumer.assignment());
                Set<TopicPartition> rewound = restore.check(this::applyAndGate);
                records = without(records, rewound);
            }
            if (!records.isEmpty()) {
                process(records);
            }
            if (gated != null) {
                gated.release(this::applyUntilAcknowledged);
            }
            releaseSwept();
            if (appliedLsn != null) {
                Set<Integer> owned = ownedPartitions();
                appliedLsn.publish(owned);
                appliedLsn.published(owned).ifPresent(metrics::appliedLsn);
            }
            ledger.commitIfDue();
            updateLag();
        }
    }

    /**
     * Whether the region's Redis is compared with its checkpoint now: once a second, at once when
     * partitions were assigned (before any of their records is applied), and at once when a
     * checkpoint write was refused (another server answers).
     */
    private boolean restoreCheckDue() {
        return System.nanoTime() - lastRestoreCheck >= RESTORE_CHECK_NANOS || !lastAssignment.containsAll(consumer.assignment())
                || restore.recheckWanted();
    }

    /**
     * {@link #BUSY_POLL_NANOS} while anything waits on the loop; idle, until the next restore check is
     * due (at most a second): an idle region then wakes a few times a second, not ten, and nothing it
     * does waits longer (records end the poll; the restore check keeps its second).
     */
    private Duration pollTimeout() {
        if (ledger.hasPending() || gated != null && gated.holding() || !heldForSweeps.isEmpty() || firstFeed != null
                || restore.recheckWanted()) {
            return Duration.ofNanos(BUSY_POLL_NANOS);
        }
        long untilCheck = RESTORE_CHECK_NANOS - (System.nanoTime() - lastRestoreCheck);
        return Duration.ofNanos(Math.max(BUSY_POLL_NANOS, Math.min(RESTORE_CHECK_NANOS, untilCheck)));
    }

    /** {@code records} without those of {@code partitions} (sought back: they are read again). */
    private static ConsumerRecords<String, byte[]> without(ConsumerRecords<String, byte[]> records, Set<TopicPartition> partitions) {
        if (records.isEmpty() || partitions.isEmpty() || Collections.disjoint(records.partitions(), partitions)) {
            return records;
        }
        Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> kept = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            if (!partitions.contains(tp)) {
                kept.put(tp, records.records(tp));
            }
        }
        return new ConsumerRecords<>(kept, Map.of());
    }

    private void process(ConsumerRecords<String, byte[]> records) throws InterruptedException {
        ledger.batchStarted();
        inFlight = records.count();
        Map<ConsumerRecord<String, byte[]>, Span> spans = tracing.on() ? startSpans(records) : Map.of();
        Admission.Admitted batch = admission.admit(records, deadLetters);
        List<InvalidationEvent> events = batch.events();
        BatchPlan plan = BatchPlan.of(events);
        // with a replica gate every batch is applied twice, whole: its sweeps are done in place
        PatternSweeps sweeps = gated == null ? applier.sweeps() : null;
        Applied applied = applyUntilAcknowledged(plan, sweeps != null);
        if (!spans.isEmpty()) {
            endSpans(spans, batch, events.size(), applied != null);
        }
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
        long now = nowMicros();
        for (InvalidationEvent e : appliedNow) {
            metrics.latency(now - e.commitTs());
            topicLag.applied(e.commitTs());
        }
        applied.results().forEach(metrics::applied);
        metrics.applied("superseded", plan.superseded());
        metrics.batch(events.size());
        if (gated != null) {
            // a standby shows a change only once it replayed its transaction's COMMIT, not the change itself
            gated.hold(plan, owned, events.stream().mapToLong(InvalidationEvent::visibleAfter).max().orElse(0), heartbeatsApplied);
        } else if (held) {
            // only its patterns' records are kept (a sweep's poison keys are dead-lettered with them): held batches stay small
            List<InvalidationEvent> patterns = events.stream().filter(e -> e.scope().isPattern()).toList();
            Map<InvalidationEvent, ConsumerRecord<String, byte[]>> patternOrigins = new IdentityHashMap<>();
            patterns.forEach(e -> patternOrigins.put(e, batch.origins().get(e)));
            heldForSweeps.addLast(new HeldForSweep(sweeps.submitted(), owned, ledger.generation(owned.keySet()), heartbeatsApplied,
                    patterns, patternOrigins));
        } else {
            ledger.applied(owned);
        }
        appliedBatches++;
        tell(appliedNow);
    }

    private void tell(List<InvalidationEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        for (AppliedListener listener : listeners) {
            try {
                listener.applied(events);
            } catch (RuntimeException e) {
                LOG.warn("region {}: listener {} failed: {}", region, listener.getClass().getSimpleName(), e.toString());
            }
        }
    }

    /** A span of the region's apply for each record of the batch that carries a sampled trace (most carry none). */
    private Map<ConsumerRecord<String, byte[]>, Span> startSpans(
            ConsumerRecords<String, byte[]> records) {
        Map<ConsumerRecord<String, byte[]>, Span> spans = null;
        for (ConsumerRecord<String, byte[]> record : records) {
            Context parent = tracing.parent(record.headers());
            if (parent != null) {
                Span span = tracing.startChild(SPAN, SpanKind.CONSUMER, parent);
                span.setAttribute("lethe.region", region);
                span.setAttribute(PARTITION, (long) record.partition());
                spans = spans == null ? new IdentityHashMap<>() : spans;
                spans.put(record, span);
            }
        }
        return spans == null ? Map.of() : spans;
    }

    /** Ends the batch's spans: applied (with Redis's acknowledgement of the batch), refused by admission, or not applied (closing). */
    private void endSpans(Map<ConsumerRecord<String, byte[]>, Span> spans,
            Admission.Admitted batch, int batchSize, boolean applied) {
        Map<ConsumerRecord<String, byte[]>, InvalidationEvent> admitted = new IdentityHashMap<>();
        batch.origins().forEach((event, record) -> admitted.put(record, event));
        spans.forEach((record, span) -> {
            InvalidationEvent event = admitted.get(record);
            span.setAttribute("lethe.batch.size", (long) batchSize);
            if (event == null) {
                span.setAttribute("lethe.outcome", "refused"); // dead-lettered by admission, with its reason
            } else {
                span.setAttribute("lethe.namespace", event.namespace());
                span.setAttribute(LSN, event.lsn());
                span.setAttribute("lethe.outcome", applied ? "applied" : "not-applied");
            }
            if (!applied) {
                span.setStatus(StatusCode.ERROR, "closing before Redis acknowledged the batch");
            }
            span.end();
        });
    }

    /**
     * Releases, oldest first, the batches held behind sweeps that are done: their heartbeats
     * raise the applied watermark (unless a partition was sought back since), their offsets go
     * to the ledger; a finished sweep's poison keys are dead-lettered first. Fetching pauses while
     * too many batches wait.
     */
    private void releaseSwept() {
        PatternSweeps sweeps = applier.sweeps();
        if (sweeps == null) {
            return;
        }
        PatternSweeps.Progress progress = sweeps.takeFinished();
        if (!progress.finished().isEmpty()) {
            Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins = new IdentityHashMap<>();
            heldForSweeps.forEach(h -> origins.putAll(h.origins()));
            for (PatternSweeps.Finished f : progress.finished()) {
                deadLetters.sendPoisoned(f.applied().poisoned(), origins);
                f.applied().results().forEach(metrics::applied);
            }
        }
        while (!heldForSweeps.isEmpty() && heldForSweeps.peekFirst().awaited() <= progress.done()) {
            HeldForSweep h = heldForSweeps.removeFirst();
            if (ledger.current(h.generation())) {
                h.heartbeatsApplied().run();
            }
            ledger.appliedIfCurrent(h.offsets(), h.generation());
            long now = nowMicros();
            for (InvalidationEvent e : h.patterns()) {
                metrics.latency(now - e.commitTs());
                topicLag.applied(e.commitTs());
            }
            tell(h.patterns());
        }
        if (!sweepsPaused && heldForSweeps.size() >= MAX_HELD_FOR_SWEEPS) {
            consumer.pause(consumer.assignment());
            sweepsPaused = true;
            LOG.warn("region {}: {} batches wait behind pattern sweeps ({} sweeps in the backlog); fetching paused",
                    region, heldForSweeps.size(), sweeps.backlog());
        } else if (sweepsPaused && heldForSweeps.size() < MAX_HELD_FOR_SWEEPS / 2) {
            sweepsPaused = false;
            if (!holdsPartitions()) {
                consumer.resume(consumer.paused());
            }
        }
    }

    /**
     * Applies the plan until Redis acknowledges it, pausing the partitions meanwhile.
     *
     * @return what it did, or null when the loop is closing before it could apply
     */
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
        backoff.reset();
        try {
            while (true) {
                try {
                    Applied applied = deferSweeps ? applier.applyDeferringSweeps(plan) : applier.apply(plan);
                    metrics.up(true);
                    misconfiguration.clear();
                    return applied;
                } catch (ApplyFailure e) {
                    metrics.retry(e.kind());
                    metrics.up(false);
                    if (e.failure().isFatal()) {
                        misconfiguration.report(e.failure());
                    } else if (!retrying) {
                        LOG.warn("region {}: applying {} invalidations failed ({}); retrying the batch, nothing is committed until "
                                + "Redis acknowledges it", region, plan.keys().size() + plan.patterns().size(), e.getMessage());
                    }
                    retrying = true;
                    consumer.pause(consumer.assignment());
                    if (!waitPolling(backoff.next())) {
                        return null;
                    }
                }
            }
        } finally {
            if (retrying) {
                LOG.info("region {}: Redis answers again; batch applied", region);
            }
            retrying = false;
            if (!holdsPartitions()) {
                consumer.resume(consumer.paused());
            }
        }
    }

    /** Waits, polling with every partition paused so the consumer stays in its group. */
    private boolean waitPolling(Duration wait) throws InterruptedException {
        long until = System.nanoTime() + wait.toNanos();
        while (running && System.nanoTime() < until) {
            ConsumerRecords<String, byte[]> stray = poll(Duration.ofMillis(Math.min(100, Math.max(1, wait.toMillis()))));
            // partitions assigned during the wait are paused by the ledger; should a record slip
            // through, rewind so it is read again after this batch
            for (TopicPartition tp : stray.partitions()) {
                consumer.seek(tp, stray.records(tp).get(0).offset());
            }
            deadLetters.settled();
            updateLag();
        }
        return running;
    }

    /**
     * {@code consumer.poll}: a partition without a committed offset, or with one outside its log,
     * starts from the log's start (see {@link RestoreReplay#startFromLogStart}); any other Kafka
     * error is classified, reported, and waited out.
     */
    private ConsumerRecords<String, byte[]> poll(Duration timeout) throws InterruptedException {
        try {
            ConsumerRecords<String, byte[]> records = consumer.poll(timeout);
            pollBackoff.reset();
            if (!retrying) {
                misconfiguration.clear();
            }
            return records;
        } catch (NoOffsetForPartitionException e) {
            restore.startFromLogStart(e.partitions(), false, this::applyAndGate);
        } catch (OffsetOutOfRangeException e) {
            restore.startFromLogStart(e.offsetOutOfRangePartitions().keySet(), true, this::applyAndGate);
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            Failure f = KafkaFailures.classify(e);
            metrics.retry(f.reason());
            if (f.isFatal()) {
                misconfiguration.report(f);
            } else {
                LOG.warn("region {}: polling failed ({}); retrying", region, e.toString());
            }
            pollBackoff.sleep();
        }
        return ConsumerRecords.empty();
    }

    private long nowMicros() {
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private void updateLag() {
        topicLag.update(inFlight, nowMicros());
    }
}
