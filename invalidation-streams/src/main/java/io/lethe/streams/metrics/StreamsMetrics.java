package io.lethe.streams.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The names and meters of invalidation-streams. */
public final class StreamsMetrics {
    /** Changes read ({@code direction=in}) and invalidations written ({@code direction=out}, by namespace and region). */
    public static final String EVENTS = "lethe.streams.events";
    /** Records sent to the DLQ, by reason and stage (shared name with region-consumer). */
    public static final String DLQ = "lethe.dlq.events";
    /** Time to map one change into its invalidations. */
    public static final String PROCESS_TIME = "lethe.streams.process.time";
    /** Commit to invalidations emitted (this stage's share of the staleness budget). */
    public static final String LATENCY = "lethe.streams.latency";
    /**
     * Changes whose exact invalidation could not be built, so a wider one was emitted in its
     * place (by namespace and reason): each is a fail-closed decision, and each is dead-lettered.
     */
    public static final String WIDENED = "lethe.streams.widened";
    /** Tag value of {@code region} for the public topic. */
    public static final String ALL_REGIONS = "all";
    /**
     * Seconds since the commit of the newest heartbeat forwarded from every changes partition this
     * instance processes (the oldest of them): how far streams is behind the primary; NaN before
     * the first.
     */
    public static final String WATERMARK_AGE = "lethe.streams.watermark.age";
    /**
     * Watermarks not forwarded ({@code reason}: {@code unknown-shard}, a shard this configuration
     * does not have; {@code capture-tables}, a capture that captures other tables than this
     * configuration expects of it): the regions hold their watermarks rather than claim coverage.
     */
    public static final String WATERMARKS_HELD = "lethe.streams.watermarks.held";

    private final MeterRegistry registry;
    private final Counter in;
    private final Timer processTime;
    private final Timer latency;
    private final Map<String, Counter> out = new ConcurrentHashMap<>();
    private final Map<String, Counter> dlq = new ConcurrentHashMap<>();
    private final Map<String, Counter> widened = new ConcurrentHashMap<>();
    /** Newest forwarded heartbeat commit time (micros), by changes topic partition. */
    /** Per (changes partition, capture shard): the partition in the high half, the shard's index in the low. */
    private final Map<Long, Long> watermarks = new ConcurrentHashMap<>();
    private volatile java.util.function.Supplier<java.util.Set<Integer>> assigned = () -> null;

    public StreamsMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.in = Counter.builder(EVENTS).tag("direction", "in").tag("namespace", "-").tag("region", "-")
                .description("changes read and invalidations written").register(registry);
        this.processTime = Timer.builder(PROCESS_TIME).description("time to map one change").register(registry);
        this.latency = Timer.builder(LATENCY).description("commit to invalidations emitted")
                .publishPercentiles(0.5, 0.99).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry);
        for (io.lethe.schemas.DlqReason reason : io.lethe.schemas.DlqReason.values()) {
            dlqCounter(reason.code());
        }
        io.micrometer.core.instrument.Gauge.builder(WATERMARK_AGE, this, m -> m.watermarkAgeSeconds(System.currentTimeMillis() * 1000))
                .baseUnit("seconds").description("seconds since the commit of the oldest newest heartbeat forwarded per changes partition")
                .register(registry);
    }

    /** A heartbeat committed at {@code commitMicros} was forwarded from changes partition {@code partition}. */
    public void watermark(int partition, long commitMicros) {
        watermark(partition, 0, commitMicros);
    }

    /**
     * A heartbeat of capture shard {@code shard} (its index; 0 for a single capture) committed at
     * {@code commitMicros} was forwarded from changes partition {@code partition}: kept per shard, as
     * one shard's heartbeats say nothing of another's (a stopped shard ages the oldest).
     */
    public void watermark(int partition, int shard, long commitMicros) {
        watermarks.merge(((long) partition << 32) | (shard & 0xffffffffL), commitMicros, Math::max);
    }

    /** Which changes partitions this instance processes now (null or empty: all it has seen). */
    public void assignedPartitions(java.util.function.Supplier<java.util.Set<Integer>> partitions) {
        this.assigned = partitions;
    }

    /** The watermark age at {@code nowMicros}, over the partitions this instance processes; NaN when none is known. */
    public double watermarkAgeSeconds(long nowMicros) {
        // stopped or between assignments, an instance processes nothing: it reports what it processed last
        java.util.Set<Integer> mine = assigned.get();
        boolean all = mine == null || mine.isEmpty();
        long oldest = Long.MAX_VALUE;
        for (Map.Entry<Long, Long> e : watermarks.entrySet()) {
            if (all || mine.contains((int) (e.getKey() >>> 32))) {
                oldest = Math.min(oldest, e.getValue());
            }
        }
        return oldest == Long.MAX_VALUE ? Double.NaN : Math.max(0, nowMicros - oldest) / 1e6;
    }

    public void in() {
        in.increment();
    }

    public void out(String namespace, String region) {
        out.computeIfAbsent(namespace + '\0' + region, k -> Counter.builder(EVENTS).tag("direction", "out")
                .tag("namespace", namespace).tag("region", region).register(registry)).increment();
    }

    /** A watermark not forwarded, for {@code reason} ({@link #WATERMARKS_HELD}). */
    public void watermarkHeld(String reason) {
        Counter.builder(WATERMARKS_HELD).tag("reason", reason)
                .description("watermarks not forwarded: their capture's shard or tables are not what this configuration expects")
                .register(registry).increment();
    }

    public void deadLettered(String reason) {
        dlqCounter(reason).increment();
    }

    public void widened(String namespace, String reason) {
        widenedCounter(namespace, reason).increment();
    }

    public Counter widenedCounter(String namespace, String reason) {
        return widened.computeIfAbsent(namespace + '\0' + reason, k -> Counter.builder(WIDENED).tag("namespace", namespace)
                .tag("reason", reason).description("changes whose invalidation was widened because it could not be exact")
                .register(registry));
    }

    private Counter dlqCounter(String reason) {
        return dlq.computeIfAbsent(reason, r -> Counter.builder(DLQ).tag("reason", r).tag("stage", "streams")
                .description("records sent to the dead-letter topic").register(registry));
    }

    public void processed(long nanos, long commitMicros, long nowMicros) {
        processTime.record(Duration.ofNanos(nanos));
        if (commitMicros > 0) {
            latency.record(Duration.ofNanos(Math.max(0, nowMicros - commitMicros) * 1000));
        }
    }
}
