package io.lethe.cache;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * cache-client meters, tagged by namespace and outcome, as Micrometer's cache binders do, and by
 * region when the cache knows its region ({@link LetheCache.Builder#region}).
 */
final class CacheMetrics {
    /** Gets by result: hit, miss, stale, negative, bypass, error (Redis failed, timed out, or its circuit breaker was open). */
    static final String GETS = "lethe.cache.gets";
    /**
     * Fills by result: accepted, refused (by fill.lua, or undone after it: the namespace epoch moved), refused-slow-load,
     * refused-holds (the region's Redis records other holds than the reader declared, at the miss or after the fill:
     * not written, or undone), undo-failed.
     */
    static final String FILLS = "lethe.cache.fills";
    /** Hits served by the L1 near cache (also counted in gets). */
    static final String NEAR_HITS = "lethe.cache.near.hits";
    /**
     * Reads with a read-your-writes token, by result: cache (the region had applied past the
     * token and held the entry), primary (it had not, its watermark was unknown, or the entry was
     * missing: loaded by the loader).
     */
    static final String TOKEN_READS = "lethe.cache.token.reads";
    /**
     * Shadow reads of sampled hits, by result: match (the loader found what was served), in-flight
     * (it differed, and the entry was invalidated or replaced within the grace), converged (it
     * differed, and the database came back to what was served), stale (a confirmed stale entry:
     * the same difference survived the grace), undecided (the region's applied watermark did not
     * show the first load applied, being behind or unknown, within the longest grace), dropped (over the inspection's limits: not checked),
     * error (the loader or Redis failed).
     */
    static final String INSPECTOR_CHECKS = "lethe.cache.inspector.checks";
    static final java.util.List<String> INSPECTOR_RESULTS = java.util.List.of(
            "match", "in-flight", "converged", "stale", "undecided", "dropped", "error");
    /** Reads served from the near cache while Redis was down ({@link Policy#withStaleOnOutage}). */
    static final String STALE_SERVES = "lethe.cache.stale.serves";
    /** Loads refused by a namespace's admission control, by reason: concurrency, rate. */
    static final String LOADS_REJECTED = "lethe.cache.loads.rejected";
    /** The region Redis circuit breaker's state, tagged redis (host:port): 0 closed, 1 open, 2 half-open. */
    static final String BREAKER_STATE = "lethe.cache.redis.breaker.state";
    /** Transitions of the region Redis circuit breaker, tagged redis and to (open, half-open, closed). */
    static final String BREAKER_TRANSITIONS = "lethe.cache.redis.breaker.transitions";
    /**
     * Connection attempts that failed while {@code build()} waited for the region Redis to answer
     * ({@link LetheCache.Builder#connectWithin}), tagged redis: a client stuck at start-up shows here.
     */
    static final String CONNECT_FAILURES = "lethe.cache.redis.connect.failures";
    /** Reads served from a hot key's copy in this process ({@link Policy#withHotKeyCopies}). */
    static final String HOT_HITS = "lethe.cache.hot.hits";
    /** How many of the namespace's keys are hot in this process now (see {@link CacheNamespace#hotKeys}). */
    static final String HOT_KEYS = "lethe.cache.hot.keys";
    /** Background refreshes started early by a hit, before the entry's soft expiry ({@link Policy#withEarlyRefresh}). */
    static final String EARLY_REFRESHES = "lethe.cache.early.refreshes";
    /** Time the loader took. */
    static final String LOAD = "lethe.cache.load.latency";

    private final MeterRegistry registry;
    private final String namespace;
    /** namespace, and region when the cache was given one ({@link LetheCache.Builder#region}). */
    private final Tags tags;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Timer load;

    CacheMetrics(MeterRegistry registry, String namespace) {
        this(registry, namespace, null);
    }

    CacheMetrics(MeterRegistry registry, String namespace, String region) {
        this.registry = registry;
        this.namespace = namespace;
        this.tags = region == null ? Tags.of("namespace", namespace) : Tags.of("namespace", namespace, "region", region);
        this.load = Timer.builder(LOAD).tags(tags).description("database load on a miss")
                .publishPercentiles(0.5, 0.99).register(registry);
        // registered up front, so the stale-entry ratio and its alert have a series from the start
        INSPECTOR_RESULTS.forEach(r -> counter(INSPECTOR_CHECKS, r));
    }

    /** One shadow read's outcome (one of {@link #INSPECTOR_RESULTS}). */
    void check(String result) {
        counter(INSPECTOR_CHECKS, result).increment();
    }

    void get(String result) {
        counter(GETS, result).increment();
    }

    void fill(boolean accepted) {
        counter(FILLS, accepted ? "accepted" : "refused").increment();
    }

    /** A fill not written because its load outlasted the namespace's fence TTL. */
    void fillRefusedSlowLoad() {
        counter(FILLS, "refused-slow-load").increment();
    }

    /** A fill not written, or undone, because the region's Redis records other holds than this reader's (see {@link FencedFill}). */
    void fillRefusedHolds() {
        counter(FILLS, "refused-holds").increment();
    }

    /** A fill that had to be undone (its namespace epoch moved or could not be read) and could not be. */
    void fillUndoFailed() {
        counter(FILLS, "undo-failed").increment();
    }

    void tokenRead(boolean fromCache) {
        counter(TOKEN_READS, fromCache ? "cache" : "primary").increment();
    }

    void staleServe() {
        registry.counter(STALE_SERVES, tags).increment();
    }

    void loadRejected(String reason) {
        counter(LOADS_REJECTED, reason, "reason").increment();
    }

    void hotHit() {
        registry.counter(HOT_HITS, tags).increment();
    }

    void earlyRefresh() {
        registry.counter(EARLY_REFRESHES, tags).increment();
    }

    /** The gauge of the namespace's hot keys: how many there are now. */
    void hotKeys(HotKeys hot) {
        io.micrometer.core.instrument.Gauge.builder(HOT_KEYS, hot, HotKeys::size).tags(tags)
                .description("keys of the namespace this process reads most now").register(registry);
    }

    void nearHit() {
        counter(NEAR_HITS, "hit").increment();
    }

    void load(long nanos) {
        load.record(Duration.ofNanos(nanos));
    }

    private Counter counter(String name, String result) {
        return counter(name, result, "result");
    }

    private Counter counter(String name, String value, String tag) {
        return counters.computeIfAbsent(name + '\0' + value, k -> Counter.builder(name).tags(tags)
                .tag(tag, value).register(registry));
    }
}
