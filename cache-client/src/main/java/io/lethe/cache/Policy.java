package io.lethe.cache;

import java.time.Duration;
import java.util.Objects;

/**
 * How much staleness a namespace accepts, and how its entries live.
 *
 * <ul>
 *   <li>{@link #strong()}: bypass the cache, always read the database;</li>
 *   <li>{@link #bounded(Duration)}: serve entries filled less than {@code maxAge} ago, else reload;</li>
 *   <li>{@link #eventual()}: serve an entry while it is present (the pipeline removes it on change).</li>
 * </ul>
 * Entry TTL with jitter, negative caching and stale-while-revalidate are set with the {@code with*} methods.
 *
 * @param consistency    strong, bounded or eventual
 * @param maxAge         for bounded: the oldest entry served
 * @param ttl            entry TTL (zero: none)
 * @param jitter         TTL is spread by +/- this fraction, so entries filled together expire apart
 * @param negativeTtl    how long "not found" is cached (zero: not cached)
 * @param softTtl        stale-while-revalidate: after this an entry is served once more while one
 *                       background load refreshes it (zero: off)
 * @param fillLock       cross-process fill lock lease (zero: off): one process loads a cold key,
 *                       others wait up to this long for its fill
 * @param fenceTtl       the namespace's {@code fence-ttl} in {@code lethe.yml} (default 60 s): a fill
 *                       whose load, counted from the miss, took longer than this is not written,
 *                       because an invalidation that landed meanwhile may have left a fence that has
 *                       already expired, and nothing else would refuse the old value
 * @param shadowReads    shadow reads: about one hit in this many (chosen at random) is checked,
 *                       off the request path, against what the loader finds now (default
 *                       {@value #DEFAULT_SHADOW_READS}; 0: off). See {@link #withShadowReads}.
 * @param staleOnOutage  eventual only: while Redis is down (its connection lost, or the circuit
 *                       breaker open), a near-cache copy is served for at most this long after
 *                       Redis was last known to answer (zero: off). See {@link #withStaleOnOutage}.
 * @param loadLimits     admission control of this namespace's loads (default: unlimited). See
 *                       {@link #withLoadLimits}.
 * @param hotKeyCopies   eventual only: the namespace's hot keys are also kept in this process, untracked,
 *                       for at most this long (zero: off). See {@link #withHotKeyCopies}.
 * @param earlyRefresh   XFetch's beta: hits refresh an entry early, at random, as its soft expiry
 *                       nears (0: off). See {@link #withEarlyRefresh}.
 */
public record Policy(Consistency consistency, Duration maxAge, Duration ttl, double jitter, Duration negativeTtl,
        Duration softTtl, Duration fillLock, Duration fenceTtl, int shadowReads, Duration staleOnOutage,
        LoadLimits loadLimits, Duration hotKeyCopies, double earlyRefresh) {
    public enum Consistency {
        STRONG, BOUNDED, EVENTUAL
    }

    public static final Duration DEFAULT_TTL = Duration.ofMinutes(30);
    public static final double DEFAULT_JITTER = 0.1;
    /** Lethe's default {@code fence-ttl}; set {@link #withFenceTtl} when the namespace's differs. */
    public static final Duration DEFAULT_FENCE_TTL = Duration.ofSeconds(60);
    /** By default about one cache hit in this many is shadow-read. */
    public static final int DEFAULT_SHADOW_READS = 1000;

    public Policy {
        Objects.requireNonNull(consistency, "consistency");
        requireNonNegative("ttl", ttl);
        requireNonNegative("negativeTtl", negativeTtl);
        requireNonNegative("softTtl", softTtl);
        requireNonNegative("fillLock", fillLock);
        if (fenceTtl == null || fenceTtl.isZero() || fenceTtl.isNegative()) {
            throw new IllegalArgumentException("fenceTtl must be positive (the namespace's fence-ttl), was " + fenceTtl);
        }
        if (consistency == Consistency.BOUNDED && (maxAge == null || maxAge.isZero() || maxAge.isNegative())) {
            throw new IllegalArgumentException("bounded staleness needs a positive maxAge, was " + maxAge);
        }
        if (shadowReads < 0) {
            throw new IllegalArgumentException("shadowReads must be 0 (off) or a positive 1-in-N, was " + shadowReads);
        }
        if (jitter < 0 || jitter >= 1) {
            throw new IllegalArgumentException("jitter must be in [0, 1), was " + jitter);
        }
        requireNonNegative("staleOnOutage", staleOnOutage);
        if (!staleOnOutage.isZero() && consistency != Consistency.EVENTUAL) {
            throw new IllegalArgumentException("staleOnOutage is for eventual namespaces only: a " + consistency.name().toLowerCase()
                    + " namespace never serves a copy Redis cannot vouch for");
        }
        Objects.requireNonNull(loadLimits, "loadLimits");
        requireNonNegative("hotKeyCopies", hotKeyCopies);
        if (!hotKeyCopies.isZero() && consistency != Consistency.EVENTUAL) {
            throw new IllegalArgumentException("hotKeyCopies is for eventual namespaces only: its copies are not tracked, and a "
                    + consistency.name().toLowerCase() + " namespace never serves a copy an invalidation may have passed");
        }
        if (!(earlyRefresh >= 0) || Double.isInfinite(earlyRefresh)) {
            throw new IllegalArgumentException("earlyRefresh (beta) must be 0 (off) or a positive number, was " + earlyRefresh);
        }
        if (earlyRefresh > 0 && consistency != Consistency.BOUNDED && softTtl.isZero()) {
            throw new IllegalArgumentException("earlyRefresh needs a soft expiry to refresh before: withStaleWhileRevalidate(...) "
                    + "or a bounded namespace");
        }
    }

    /**
     * Admission control of a namespace's loads in this process: at most {@code maxConcurrent}
     * loads at a time and {@code maxPerSecond} started per second (0: no bound). A load over
     * either waits up to {@code maxWait} for its turn, then fails with {@link LoadRejectedException}.
     */
    public record LoadLimits(int maxConcurrent, int maxPerSecond, Duration maxWait) {
        /** No bound. */
        public static final LoadLimits NONE = new LoadLimits(0, 0, Duration.ZERO);

        public LoadLimits {
            if (maxConcurrent < 0 || maxPerSecond < 0) {
                throw new IllegalArgumentException("maxConcurrent and maxPerSecond must be 0 (no bound) or positive, were "
                        + maxConcurrent + " and " + maxPerSecond);
            }
            requireNonNegative("maxWait", maxWait);
        }

        boolean unlimited() {
            return maxConcurrent == 0 && maxPerSecond == 0;
        }
    }

    static void requireNonNegative(String name, Duration d) {
        if (d == null || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be zero or positive, was " + d);
        }
    }

    public static Policy strong() {
        return new Policy(Consistency.STRONG, null, Duration.ZERO, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO, DEFAULT_FENCE_TTL,
                DEFAULT_SHADOW_READS, Duration.ZERO, LoadLimits.NONE, Duration.ZERO, 0);
    }

    public static Policy bounded(Duration maxAge) {
        return new Policy(Consistency.BOUNDED, maxAge, DEFAULT_TTL, DEFAULT_JITTER, Duration.ZERO, Duration.ZERO, Duration.ZERO,
                DEFAULT_FENCE_TTL, DEFAULT_SHADOW_READS, Duration.ZERO, LoadLimits.NONE, Duration.ZERO, 0);
    }

    public static Policy eventual() {
        return new Policy(Consistency.EVENTUAL, null, DEFAULT_TTL, DEFAULT_JITTER, Duration.ZERO, Duration.ZERO, Duration.ZERO,
                DEFAULT_FENCE_TTL, DEFAULT_SHADOW_READS, Duration.ZERO, LoadLimits.NONE, Duration.ZERO, 0);
    }

    public Policy withTtl(Duration newTtl, double newJitter) {
        return new Policy(consistency, maxAge, newTtl, newJitter, negativeTtl, softTtl, fillLock, fenceTtl, shadowReads, staleOnOutage,
                loadLimits, hotKeyCopies, earlyRefresh);
    }

    public Policy withNegativeTtl(Duration newNegativeTtl) {
        return new Policy(consistency, maxAge, ttl, jitter, newNegativeTtl, softTtl, fillLock, fenceTtl, shadowReads, staleOnOutage,
                loadLimits, hotKeyCopies, earlyRefresh);
    }

    public Policy withStaleWhileRevalidate(Duration newSoftTtl) {
        return new Policy(consistency, maxAge, ttl, jitter, negativeTtl, newSoftTtl, fillLock, fenceTtl, shadowReads, staleOnOutage,
                loadLimits, hotKeyCopies, earlyRefresh);
    }

    public Policy withFillLock(Duration lease) {
        return new Policy(consistency, maxAge, ttl, jitter, negativeTtl, softTtl, lease, fenceTtl, shadowReads, staleOnOutage, loadLimits,
                hotKeyCopies, earlyRefresh);
    }

    /** The namespace's {@code fence-ttl} from {@code lethe.yml}, when it is not the default 60 s. */
    public Policy withFenceTtl(Duration namespaceFenceTtl) {
        return new Policy(consistency, maxAge, ttl, jitter, negativeTtl, softTtl, fillLock, namespaceFenceTtl, shadowReads, staleOnOutage,
                loadLimits, hotKeyCopies, earlyRefresh);
    }

    /**
     * Shadow reads: about one cache hit in {@code oneIn} (0: none) is handed, off the request
     * path, to the cache's inspection, which loads the key with the same loader and compares the
     * value and version served with what it finds. A difference that survives the region's lag
     * plus a margin is a confirmed stale entry: counted
     * ({@code lethe.cache.inspector.checks{result=stale}}), logged, healed and recorded in
     * {@code lethe:audit:stale}. Each sampled hit costs one more load, off the request path,
     * within {@link LetheCache.Builder#shadowReadLimits}.
     */
    public Policy withShadowReads(int oneIn) {
        return new Policy(consistency, maxAge, ttl, jitter, negativeTtl, softTtl, fillLock, fenceTtl, oneIn, staleOnOutage, loadLimits,
                hotKeyCopies, earlyRefresh);
    }

    /**
     * While this region's Redis is down (its connection lost, or the circuit breaker open), serve
     * the near cache's copy of a key for at most {@code maxStale} after Redis was last known to
     * answer, instead of loading it; every such read is counted in
     * {@code lethe.cache.stale.serves{namespace}}. Eventual namespaces only (the constructor
     * refuses others); token reads never take it. Needs {@link LetheCache.Builder#nearCache}.
     */
    public Policy withStaleOnOutage(Duration maxStale) {
        return new Policy(consistency, maxAge, ttl, jitter, negativeTtl, softTtl, fillLock, fenceTtl, shadowReads, maxStale, loadLimits,
                hotKeyCopies, earlyRefresh);
    }

    /** Admission control of this namespace's loads, see {@link LoadLimits}. */
    public Policy withLoadLimits(int maxConcurrent, int maxPerSecond, Duration maxWait) {
        return new Policy(consistency, maxAge, ttl, jitter, negativeTtl, softTtl, fillLock, fenceTtl, shadowReads, staleOnOutage,
                new LoadLimits(maxConcurrent, maxPerSecond, maxWait), hotKeyCopies, earlyRefresh);
    }

    /**
     * Hot-key copies: the keys this process reads most in the namespace (a frequency sketch of its
     * reads, see {@link CacheNamespace#hotKeys}) are also kept in this process for at most
     * {@code maxStale} after they were read from Redis, and served from there without a round trip.
     * The copies are not tracked by Redis: after an invalidation a copy may be served for up to
     * {@code maxStale} more. That is why eventual namespaces only take it (the constructor refuses
     * others), and token reads never take a copy. Meant for a Redis Cluster, where the tracked near
     * cache is not available ({@link LetheCache.Builder#nearCache}), to take a celebrity key's
     * reads off its one shard; with a tracked near cache its hot keys are already in it. Hits on
     * copies are counted in {@code lethe.cache.hot.hits{namespace}}.
     */
    public Policy withHotKeyCopies(Duration maxStale) {
        return new Policy(consistency, maxAge, ttl, jitter, negativeTtl, softTtl, fillLock, fenceTtl, shadowReads, staleOnOutage,
                loadLimits, maxStale, earlyRefresh);
    }

    /**
     * Probabilistic early refresh ("XFetch", Vattani et al., VLDB 2015) before an entry's soft expiry:
     * a hit refreshes the entry in the background, while serving it, with a probability that grows as
     * the soft expiry nears, so one reader, not a crowd at the expiry, reloads a hot key. A hit at time
     * {@code now} refreshes when {@code now - delta * beta * ln(random) >= softExpiry}, where
     * {@code delta} is this namespace's recent mean load time in this process. {@code beta} 1 is the
     * paper's default, larger refreshes earlier, 0 is off. Needs a soft expiry:
     * {@link #withStaleWhileRevalidate} or a bounded namespace's {@code maxAge}. The refresh is an
     * ordinary fenced fill (an invalidation meanwhile refuses it).
     */
    public Policy withEarlyRefresh(double beta) {
        return new Policy(consistency, maxAge, ttl, jitter, negativeTtl, softTtl, fillLock, fenceTtl, shadowReads, staleOnOutage,
                loadLimits, hotKeyCopies, beta);
    }
}
