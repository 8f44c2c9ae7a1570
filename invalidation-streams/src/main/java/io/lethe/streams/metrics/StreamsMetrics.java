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

    private final MeterRegistry registry;
    private final Counter in;
    private final Timer processTime;
    private final Timer latency;
    private final Map<String, Counter> out = new ConcurrentHashMap<>();
    private final Map<String, Counter> dlq = new ConcurrentHashMap<>();
    private final Map<String, Counter> widened = new ConcurrentHashMap<>();

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
    }

    public void in() {
        in.increment();
    }

    public void out(String namespace, String region) {
        out.computeIfAbsent(namespace + '\0' + region, k -> Counter.builder(EVENTS).tag("direction", "out")
                .tag("namespace", namespace).tag("region", region).register(registry)).increment();
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
