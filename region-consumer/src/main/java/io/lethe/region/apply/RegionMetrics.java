package io.lethe.region.apply;

import static io.lethe.region.apply.RegionMeterNames.APPLIED;
import static io.lethe.region.apply.RegionMeterNames.APPLIED_LSN;
import static io.lethe.region.apply.RegionMeterNames.ASSIGNED;
import static io.lethe.region.apply.RegionMeterNames.BATCH_SIZE;
import static io.lethe.region.apply.RegionMeterNames.DLQ;
import static io.lethe.region.apply.RegionMeterNames.END_TO_END_LAG;
import static io.lethe.region.apply.RegionMeterNames.FIRST_FEEDS;
import static io.lethe.region.apply.RegionMeterNames.FIRST_FEED_PENDING;
import static io.lethe.region.apply.RegionMeterNames.GATE_PENDING;
import static io.lethe.region.apply.RegionMeterNames.GATE_REAPPLIED;
import static io.lethe.region.apply.RegionMeterNames.LAG_RECORDS;
import static io.lethe.region.apply.RegionMeterNames.LAG_SECONDS;
import static io.lethe.region.apply.RegionMeterNames.LATENCY;
import static io.lethe.region.apply.RegionMeterNames.LATENCY_RECENT;
import static io.lethe.region.apply.RegionMeterNames.OFFSETS_LOST;
import static io.lethe.region.apply.RegionMeterNames.PATTERN_BACKLOG;
import static io.lethe.region.apply.RegionMeterNames.PATTERN_DURATION;
import static io.lethe.region.apply.RegionMeterNames.PATTERN_KEYS;
import static io.lethe.region.apply.RegionMeterNames.POISONED;
import static io.lethe.region.apply.RegionMeterNames.REDIS_LATENCY;
import static io.lethe.region.apply.RegionMeterNames.REDIS_RESTORES;
import static io.lethe.region.apply.RegionMeterNames.REPLAYED_UPSERTS;
import static io.lethe.region.apply.RegionMeterNames.REPLICA_REFUSED;
import static io.lethe.region.apply.RegionMeterNames.RESTORE_ACTIONS;
import static io.lethe.region.apply.RegionMeterNames.RESULTS;
import static io.lethe.region.apply.RegionMeterNames.RETRIES;
import static io.lethe.region.apply.RegionMeterNames.SCAN_SLOTS_RESCANNED;
import static io.lethe.region.apply.RegionMeterNames.TOPIC_MOVES;
import static io.lethe.region.apply.RegionMeterNames.UNPROVEN_REASONS;
import static io.lethe.region.apply.RegionMeterNames.UNPROVEN_UPSERTS;
import static io.lethe.region.apply.RegionMeterNames.UNSIGNED_DELETES;
import static io.lethe.region.apply.RegionMeterNames.UP;

import io.lethe.schemas.DlqReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/** The meters of one region's consumer ({@link RegionMeterNames} names them); every meter carries {@code region}. */
public final class RegionMetrics {
    private final MeterRegistry registry;
    private final String region;
    private final Timer latency;
    private final Timer redisLatency;
    private final DistributionSummary batchSize;
    private final Counter patternKeys;
    private final Counter slotsRescanned;
    private final AtomicLong lagRecords = new AtomicLong();
    private final AtomicLong lagMillis = new AtomicLong();
    private final AtomicLong up = new AtomicLong();
    private final AtomicLong assigned = new AtomicLong();
    private final AtomicLong gatePending = new AtomicLong();
    private final AtomicLong replicaRefused = new AtomicLong();
    private final Counter reapplied;
    private final Counter offsetsLost;
    private final Counter topicMoves;
    private final Counter firstFeeds;
    private final AtomicInteger firstFeedPending = new AtomicInteger();
    private final Map<String, Counter> applied = new ConcurrentHashMap<>();
    private final Map<String, Counter> retries = new ConcurrentHashMap<>();
    private final Map<String, Counter> dlq = new ConcurrentHashMap<>();
    private final Map<String, Counter> poisoned = new ConcurrentHashMap<>();
    private final AppliedWatermarks watermarks = new AppliedWatermarks();
    private final AtomicLong appliedLsn = new AtomicLong(-1);

    public RegionMetrics(MeterRegistry registry, String region) {
        this.registry = registry;
        this.region = region;
        this.latency = Timer.builder(LATENCY).tag("region", region)
                .description("commit in PostgreSQL to applied in the region's Redis")
                .publishPercentiles(0.5, 0.99, 0.999).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(10))
                .distributionStatisticExpiry(Duration.ofMinutes(1)).distributionStatisticBufferLength(3)
                .register(registry);
        this.redisLatency = Timer.builder(REDIS_LATENCY).tag("region", region)
                .description("flush of a batch to its last Redis reply").publishPercentiles(0.5, 0.99).register(registry);
        this.batchSize = DistributionSummary.builder(BATCH_SIZE).tag("region", region)
                .description("invalidations per batch").register(registry);
        this.patternKeys = Counter.builder(PATTERN_KEYS).tag("region", region).register(registry);
        this.slotsRescanned = Counter.builder(SCAN_SLOTS_RESCANNED).tag("region", region)
                .description("cluster slots a scan read again because they moved or migrated while it ran").register(registry);
        Tags tags = Tags.of("region", region);
        for (double q : new double[] {0.5, 0.99, 0.999}) {
            Gauge.builder(LATENCY_RECENT, latency, t -> recent(t, q)).baseUnit("seconds")
                    .tags(tags).tag("quantile", Double.toString(q)).description("commit to applied, last minute").register(registry);
        }
        // every series exists from the start, so alerts on increase() and absent() work before the first event
        RESULTS.forEach(r -> applied(r, 0));
        RESTORE_ACTIONS.forEach(this::restores);
        UNPROVEN_REASONS.forEach(reason -> unprovenUpserts(reason, 0));
        RegionMeterNames.UNDONE_REASONS.forEach(reason -> counted(RegionMeterNames.UPSERTS_UNDONE, reason, 0));
        this.offsetsLost = Counter.builder(OFFSETS_LOST).tag("region", region)
                .description("partitions whose records were deleted before this region applied them").register(registry);
        this.topicMoves = Counter.builder(TOPIC_MOVES).tag("region", region)
                .description("moves to another topic, each started with a wholesale invalidation").register(registry);
        this.firstFeeds = Counter.builder(FIRST_FEEDS).tag("region", region)
                .description("first feeds of a Redis without a topic marker, each a wholesale invalidation").register(registry);
        Gauge.builder(FIRST_FEED_PENDING, firstFeedPending, AtomicInteger::get)
                .tag("region", region).description("1 while a first feed waits for streams to write the topic").register(registry);
        for (DlqReason reason : List.of(DlqReason.MALFORMED, DlqReason.UNKNOWN_NAMESPACE, DlqReason.MATCH_ALL_PATTERN,
                DlqReason.NAMESPACE_WIDE_PATTERN, DlqReason.FOREIGN_KEY, DlqReason.RESERVED_KEY, DlqReason.UPSERT_NOT_CONFIGURED,
                DlqReason.VERSION_OUT_OF_RANGE, DlqReason.FOREIGN_PATTERN, DlqReason.UNTRUSTED_WATERMARK, DlqReason.REDIS_WRONGTYPE,
                DlqReason.REDIS_OOM, DlqReason.REDIS_REFUSED, DlqReason.REDIS_KEY_DENIED)) {
            dlqCounter(reason.code());
        }
        for (DlqReason reason : List.of(DlqReason.REDIS_WRONGTYPE, DlqReason.REDIS_OOM, DlqReason.REDIS_REFUSED,
                DlqReason.REDIS_KEY_DENIED)) {
            poisoned(reason.code(), true, 0);
            poisoned(reason.code(), false, 0);
        }
        registry.gauge(LAG_RECORDS, tags, lagRecords, AtomicLong::get);
        registry.gauge(LAG_SECONDS, tags, lagMillis, v -> v.get() / 1000.0);
        registry.gauge(UP, tags, up, AtomicLong::get);
        registry.gauge(ASSIGNED, tags, assigned, AtomicLong::get);
        Gauge.builder(END_TO_END_LAG, this, RegionMetrics::endToEndLagSeconds)
                .tags(tags).baseUnit("seconds").description("newest heartbeat commit applied with everything before it, to now: "
                        + "end-to-end lag over every stage")
                .register(registry);
        registry.gauge(GATE_PENDING, tags, gatePending, AtomicLong::get);
        registry.gauge(REPLICA_REFUSED, tags, replicaRefused, AtomicLong::get);
        registry.gauge(APPLIED_LSN, tags, appliedLsn, a -> a.get() < 0 ? Double.NaN : a.get());
        this.reapplied = Counter.builder(GATE_REAPPLIED).tags(tags).register(registry);
    }

    /** The oldest applied watermark this consumer published over its partitions (commit LSN). */
    public void appliedLsn(long lsn) {
        appliedLsn.set(lsn);
    }

    public void applied(String result, int count) {
        applied.computeIfAbsent(result, r -> Counter.builder(APPLIED).tag("region", region).tag("result", r)
                .description("invalidations applied, by result").register(registry)).increment(count);
    }

    private static double recent(Timer timer, double quantile) {
        for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
            if (Math.abs(v.percentile() - quantile) < 1e-9) {
                return v.value(TimeUnit.SECONDS);
            }
        }
        return Double.NaN;
    }

    public void latency(long micros) {
        latency.record(Duration.ofNanos(Math.max(0, micros) * 1000));
    }

    public Timer latencyTimer() {
        return latency;
    }

    public void redisRoundTrip(long nanos) {
        redisLatency.record(Duration.ofNanos(nanos));
    }

    public void batch(int size) {
        batchSize.record(size);
    }

    public void retry(String kind) {
        retries.computeIfAbsent(kind, k -> Counter.builder(RETRIES).tag("region", region).tag("kind", k).register(registry)).increment();
    }

    public void deadLettered(String reason) {
        dlqCounter(reason).increment();
    }

    private Counter dlqCounter(String reason) {
        return dlq.computeIfAbsent(reason, r -> Counter.builder(DLQ).tag("reason", r).tag("stage", "region:" + region)
                .description("records sent to the dead-letter topic").register(registry));
    }

    public void poisoned(String reason, boolean widened, int count) {
        poisoned.computeIfAbsent(reason + ":" + widened, r -> Counter.builder(POISONED).tag("region", region).tag("reason", reason)
                .tag("widened", Boolean.toString(widened)).description("keys Redis refused for good; widened = the wider "
                        + "invalidation was applied instead")
                .register(registry)).increment(count);
    }

    public void patternKeys(int n) {
        patternKeys.increment(n);
    }

    /** Registers the backlog gauge of the region's sweep worker. */
    public void patternBacklog(IntSupplier backlog) {
        Gauge.builder(PATTERN_BACKLOG, backlog, b -> b.getAsInt()).tag("region", region)
                .description("pattern and namespace-wide sweeps waiting or running").strongReference(true).register(registry);
    }

    public void patternSwept(long nanos) {
        Timer.builder(PATTERN_DURATION).tag("region", region).description("one pattern or namespace-wide sweep, start to last key")
                .register(registry).record(nanos, TimeUnit.NANOSECONDS);
    }

    public void slotsRescanned(int slots) {
        slotsRescanned.increment(slots);
    }

    public void assigned(int partitions) {
        assigned.set(partitions);
    }

    public void lag(long records, long millis) {
        lagRecords.set(records);
        lagMillis.set(records == 0 ? 0 : millis);
    }

    /** Whether the replica gate refuses its replica now. */
    public void replicaRefused(boolean refused) {
        replicaRefused.set(refused ? 1 : 0);
    }

    public void gated(int batches) {
        gatePending.set(batches);
    }

    public void reapplied(int events) {
        reapplied.increment(events);
    }

    public void redisRestored(String action) {
        restores(action).increment();
    }

    private Counter restores(String action) {
        return Counter.builder(REDIS_RESTORES).tag("region", region).tag("action", action)
                .description("the region's Redis lost applied writes; what the consumer did").register(registry);
    }

    /** An upsert applied as a delete because its partition's replay floor had passed it. */
    public void replayedUpsert() {
        registry.counter(REPLAYED_UPSERTS, "region", region).increment();
    }

    /** {@code count} upserts applied as deletes for {@code reason} (one of {@link RegionMeterNames#UNPROVEN_REASONS}). */
    public void unprovenUpserts(String reason, int count) {
        Counter.builder(UNPROVEN_UPSERTS).tag("region", region).tag("reason", reason)
                .description("upserts applied as deletes because nothing proves them new").register(registry).increment(count);
    }

    /** Adds {@code count} to counter {@code name} ({@code UPSERTS_UNDONE}, {@code HOLDS_REWRITTEN}) with {@code reason}. */
    public void counted(String name, String reason, int count) {
        registry.counter(name, "region", region, "reason", reason).increment(count);
    }

    /** The region's name (for logs). */
    public String region() {
        return region;
    }

    /** A delete applied although its record's signature did not verify (a delete only costs misses). */
    public void unsignedDelete() {
        registry.counter(UNSIGNED_DELETES, "region", region).increment();
    }

    public void topicMoved() {
        topicMoves.increment();
    }

    public void firstFed() {
        firstFeeds.increment();
    }

    public void firstFeedPending(boolean pending) {
        firstFeedPending.set(pending ? 1 : 0);
    }

    public void offsetsLost(int partitions) {
        offsetsLost.increment(partitions);
    }

    /** The applied watermarks behind {@link RegionMeterNames#END_TO_END_LAG}. */
    public AppliedWatermarks watermarks() {
        return watermarks;
    }

    /** The end-to-end lag now, in seconds (NaN before the first heartbeat). */
    public double endToEndLagSeconds() {
        return watermarks.lagSeconds(System.currentTimeMillis() * 1000);
    }

    public void up(boolean isUp) {
        up.set(isUp ? 1 : 0);
    }
}
