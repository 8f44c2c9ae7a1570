package io.lethe.capture.engine;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** The names and meters of cdc-capture; tags are low-cardinality (table, op, kind). */
public final class CaptureMetrics {
    private final AtomicLong drift = new AtomicLong();
    /** Row changes published to lethe.changes, by table and op. */
    public static final String EVENTS = "lethe.capture.events";
    /** Commit time to publication acknowledged by Kafka. */
    public static final String LATENCY = "lethe.capture.latency";
    /** WAL the slot holds back: pg_current_wal_lsn() - confirmed_flush_lsn, in bytes. */
    public static final String SLOT_RETAINED_BYTES = "lethe.capture.slot.retained.bytes";
    /** Times capture found its slot missing or lost and invalidated every namespace (alarm). */
    public static final String SLOT_RESETS = "lethe.capture.slot.resets";
    /** Errors by kind: publish-retry, unmappable, engine, source-check (the source could not be checked for drift). */
    public static final String ERRORS = "lethe.capture.errors";
    /**
     * Start-up table checks that fail now (a REPLICA IDENTITY or a column changed while capture ran):
     * changes of such a table are invalidated wider than needed until it is fixed.
     */
    public static final String DRIFT = "lethe.capture.config.drift";
    /**
     * Source drifts found, by kind ({@code publication}, {@code publication-options},
     * {@code membership}, {@code identity}, {@code persistence}, {@code rewritten},
     * {@code partitions}, {@code unrecorded}, {@code slot}): each hid changes, and capture reset the namespaces
     * of the tables concerned (alarm).
     */
    public static final String SOURCE_DRIFT = "lethe.capture.source.drift";
    /**
     * Gauge: conditions of the source that hide changes capture needs now (a table out of the
     * publication, publish without update, an UNLOGGED table...); 0 when it publishes all.
     */
    public static final String SOURCE_HIDDEN = "lethe.capture.source.hidden";
    /** Changes per batch handed over by Debezium (and published with one wait for acknowledgements). */
    public static final String BATCH_SIZE = "lethe.capture.batch.size";
    /** 1 while the engine is streaming, 0 otherwise. */
    public static final String RUNNING = "lethe.capture.running";
    /** Gauge: 1 while this instance holds the slot's capture lock, 0 while it stands by. */
    public static final String LEADER = "lethe.capture.leader";
    /**
     * Seconds since the commit of the newest heartbeat capture published: how far capture (and the
     * slot before it) is behind the primary, even when no change flows; NaN before the first.
     */
    public static final String WATERMARK_AGE = "lethe.capture.watermark.age";

    private final MeterRegistry registry;
    private final Timer latency;
    private final Counter resets;
    private final AtomicLong retained = new AtomicLong(-1);
    private final DistributionSummary batchSize;
    private final AtomicLong running = new AtomicLong();
    private final Map<String, Counter> events = new ConcurrentHashMap<>();
    private final AtomicLong watermark = new AtomicLong();
    private final Map<String, Counter> sourceDrifts = new ConcurrentHashMap<>();
    private final String slot;
    private final AtomicLong hidden = new AtomicLong();

    public CaptureMetrics(MeterRegistry registry, String slot) {
        Gauge.builder(DRIFT, drift, AtomicLong::get).tag("slot", slot)
                .description("table checks failing now that passed at start-up").register(registry);
        this.registry = registry;
        this.latency = Timer.builder(LATENCY).description("commit to acknowledged on lethe.changes")
                .publishPercentiles(0.5, 0.99).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry);
        this.resets = Counter.builder(SLOT_RESETS).description("slot lost or missing: namespaces reset")
                .tag("slot", slot).register(registry);
        registry.gauge(SLOT_RETAINED_BYTES, Tags.of("slot", slot), retained, AtomicLong::get);
        registry.gauge(RUNNING, running, AtomicLong::get);
        registry.gauge(LEADER, Tags.of("slot", slot), leader, AtomicLong::get);
        Gauge.builder(WATERMARK_AGE, watermark, w -> w.get() == 0
                ? Double.NaN
                : Math.max(0, System.currentTimeMillis() * 1000 - w.get()) / 1e6).baseUnit("seconds").tag("slot", slot)
                .description("seconds since the commit of the newest heartbeat published on the changes topic").register(registry);
        this.batchSize = DistributionSummary.builder(BATCH_SIZE)
                .description("changes per published batch").register(registry);
        for (String kind : List.of("publish-retry", "unmappable", "engine", "source-check")) {
            registry.counter(ERRORS, "kind", kind);
        }
        this.slot = slot;
        // registered up front so dashboards see every kind at 0; a kind not listed here is registered when first counted
        for (String kind : List.of("publication", "publication-options", "membership", "identity", "persistence", "rewritten",
                "partitions", "inheritance", "retyped", "history", "unrecorded", "slot", "added")) {
            sourceDriftCounter(kind);
        }
        Gauge.builder(SOURCE_HIDDEN, hidden, AtomicLong::get).tag("slot", slot)
                .description("conditions of the source hiding changes capture needs now").register(registry);
    }

    /** A heartbeat committed at {@code commitMicros} is on the changes topic. */
    public void watermark(long commitMicros) {
        watermark.accumulateAndGet(commitMicros, Math::max);
    }

    /** Registers the event counters of these tables at zero, so rates exist before the first change. */
    public void tables(Collection<String> tables) {
        for (String table : tables) {
            for (String op : List.of("c", "u", "d", "t")) {
                events.computeIfAbsent(table + '\0' + op, k -> Counter.builder(EVENTS).tag("table", table).tag("op", op)
                        .description("row changes published").register(registry));
            }
        }
    }

    public void published(String table, String op, long commitMicros, long nowMicros) {
        events.computeIfAbsent(table + '\0' + op, k -> Counter.builder(EVENTS).tag("table", table).tag("op", op)
                .description("row changes published").register(registry)).increment();
        if (commitMicros > 0) {
            latency.record(Duration.ofNanos(Math.max(0, nowMicros - commitMicros) * 1000));
        }
    }

    public void batch(int size) {
        batchSize.record(size);
    }

    public void error(String kind) {
        registry.counter(ERRORS, "kind", kind).increment();
    }

    public void slotReset() {
        resets.increment();
    }

    /** Table checks failing now that passed at start-up (REPLICA IDENTITY, columns changed since). */
    public void drift(int failing) {
        drift.set(failing);
    }

    /** A source drift of {@code kind} was found (and its namespaces reset). */
    public void sourceDrift(String kind) {
        sourceDriftCounter(kind).increment();
    }

    private Counter sourceDriftCounter(String kind) {
        return sourceDrifts.computeIfAbsent(kind, k -> Counter.builder(SOURCE_DRIFT).tag("slot", slot).tag("kind", k)
                .description("source drifts that hid changes; their tables' namespaces were reset").register(registry));
    }

    /** How many conditions of the source hide changes now. */
    public void sourceHidden(int conditions) {
        hidden.set(conditions);
    }

    public void retainedBytes(long bytes) {
        retained.set(bytes);
    }

    private final AtomicLong leader = new AtomicLong();

    public void leader(boolean isLeader) {
        leader.set(isLeader ? 1 : 0);
    }

    public void running(boolean isRunning) {
        running.set(isRunning ? 1 : 0);
    }
}
