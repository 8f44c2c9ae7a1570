package io.lethe.cache;

import io.lethe.schemas.redis.FillResult;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads of one namespace: hit, or miss then load then fenced fill. Concurrent misses of a key in
 * this process share one load (single-flight); with a fill lock, processes share it too. A
 * refused fill still returns the loaded value, it is just not cached. When Redis cannot be
 * reached (or its circuit breaker is open, and then without waiting for the command timeout)
 * the value is loaded from the database and returned, uncached, with concurrent reads of a key
 * sharing that load too; an eventual namespace with {@link Policy#withStaleOnOutage} serves its
 * near-cache copy instead while it is young enough. Every load, on every path, passes the
 * namespace's admission control ({@link Policy#withLoadLimits}).
 */
public final class CacheNamespace<T> {
    private static final Logger LOG = LoggerFactory.getLogger(CacheNamespace.class);
    private static final Duration LOCK_POLL = Duration.ofMillis(10);
    private static final Duration UNDO_BACKOFF_MIN = Duration.ofMillis(50);
    private static final Duration UNDO_BACKOFF_MAX = Duration.ofSeconds(1);
    /**
     * Hot keys: a key is hot while it takes at least 1 % of the namespace's reads (100 of a window
     * of 10,000 reads, counts halved after each window), at most 64 at once.
     */
    static final int HOT_WINDOW = 10_000;
    static final int HOT_THRESHOLD = 100;
    static final int HOT_CAPACITY = 64;

    private final String name;
    private final Codec<T> codec;
    private final Policy policy;
    private final CacheRedis redis;
    private final CacheMetrics metrics;
    private final Clock clock;
    private final ExecutorService loaders;
    private final ConcurrentHashMap<String, CompletableFuture<T>> inflight = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> refreshing = new ConcurrentHashMap<>();
    /** Token reads' loads per key: see {@link #tokenLoad}. */
    private final ConcurrentHashMap<String, TokenLoads<T>> tokenLoads = new ConcurrentHashMap<>();
    private final PrimaryPositions positions;

    private final NearCache near;
    /** The region's applied-watermark key for read-your-writes, or null when the cache was built without one. */
    private final String appliedLsnKey;

    /** Shadow reads of sampled hits, or null when the namespace's policy has them off. */
    private final Inspection inspection;
    private final LoadAdmission admission;
    /** The namespace's reads in this process, counted to find its hot keys. */
    private final HotKeys hotKeys = new HotKeys(HOT_WINDOW, HOT_THRESHOLD, HOT_CAPACITY);
    /** Untracked copies of hot keys ({@link Policy#withHotKeyCopies}), or null: off, or a tracked near cache holds them. */
    private final com.github.benmanes.caffeine.cache.Cache<String, NearCache.Entry> hotCopies;
    /** The mean load time of this namespace in this process, in nanoseconds, decaying (XFetch's delta). */
    private volatile double meanLoadNanos;

    CacheNamespace(String name, Codec<T> codec, Policy policy, CacheRedis redis, CacheMetrics metrics, Clock clock,
            ExecutorService loaders, NearCache near, String appliedLsnKey, Inspection inspection, PrimaryPositions positions) {
        this.positions = positions;
        this.near = near;
        this.inspection = policy.shadowReads() > 0 && policy.consistency() != Policy.Consistency.STRONG ? inspection : null;
        this.appliedLsnKey = appliedLsnKey;
        this.name = name;
        this.codec = codec;
        this.policy = policy;
        this.redis = redis;
        this.metrics = metrics;
        this.clock = clock;
        this.loaders = loaders;
        this.admission = new LoadAdmission(name, policy.loadLimits());
        this.hotCopies = policy.hotKeyCopies().isZero() || near != null
                ? null
                : com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(HOT_CAPACITY * 2L)
                        .expireAfterWrite(policy.hotKeyCopies()).build();
        metrics.hotKeys(hotKeys);
    }

    /**
     * The keys this process reads most in this namespace now, hottest first, at most {@code n}: a key
     * is hot while it takes at least 1 % of the namespace's reads (estimated by a frequency sketch of
     * the last ~10,000 reads; see {@link HotKeys}). Also the gauge {@code lethe.cache.hot.keys}. Keys
     * can hold personal data, which is why they are given here and never as metric tags.
     */
    public java.util.List<HotKey> hotKeys(int n) {
        return hotKeys.top(n);
    }

    public String name() {
        return name;
    }

    public Policy policy() {
        return policy;
    }

    /**
     * The value of {@code key}: from the cache, or loaded and filled.
     *
     * @return the value, or null when the loader found nothing
     * @throws CacheLoadException when the loader failed
     */
    public T get(String key, Loader<T> loader) {
        return join(key, getAsync(key, loader));
    }

    /**
     * Read-your-writes: the value of {@code key}, never older than the write that returned
     * {@code token} ({@link ReadTokens#afterCommit}). Served from the cache only when this region
     * has applied everything committed before the token (its applied watermark, read from Redis in
     * the same round trip, is at or past it); otherwise {@code loader} is called, which must then
     * read the primary (or a replica known to have replayed past the token), and what it loads is
     * filled under the usual fence rules. A token of 0 or less reads as {@link #get(String, Loader)}.
     * Token reads skip the near cache and never share a load that started before they arrived (it
     * could hand back a value read before the write); token reads of one key that arrive while a load
     * runs share the next one, so a burst of them costs at most two loads at a time per key.
     *
     * @throws IllegalStateException when the cache was built without {@link LetheCache.Builder#readYourWrites}
     * @throws TokenAheadOfPrimaryException when the token is beyond the primary's position
     *         ({@link LetheCache.Builder#primaryPosition}): no write returned it
     */
    public T get(String key, Loader<T> loader, long token) {
        return join(key, getAsync(key, loader, token));
    }

    /**
     * Read-your-writes with a token that names its source history ({@link ReadTokens#take}): as
     * {@link #get(String, Loader, long)}, and served from the cache only when this region's applied
     * watermark is of the same history (after a restore, a failover to an asynchronous standby or a
     * blue/green switch, a watermark of the old history says nothing of the new one's positions).
     */
    public T get(String key, Loader<T> loader, ReadToken token) {
        return join(key, getAsync(key, loader, token));
    }

    /** As {@link #get(String, Loader, ReadToken)}, without blocking the caller. */
    public CompletableFuture<T> getAsync(String key, Loader<T> loader, ReadToken token) {
        return getAsync(key, loader, token.lsn(), token.history());
    }

    /** As {@link #get(String, Loader, long)}, without blocking the caller. */
    public CompletableFuture<T> getAsync(String key, Loader<T> loader, long token) {
        return getAsync(key, loader, token, null);
    }

    private CompletableFuture<T> getAsync(String key, Loader<T> loader, long token, String history) {
        if (token <= 0) {
            return getAsync(key, loader);
        }
        if (appliedLsnKey == null) {
            throw new IllegalStateException(
                    "a read with a token needs LetheCache.builder(...).readYourWrites(<this region's consumer group>)");
        }
        if (policy.consistency() == Policy.Consistency.STRONG) {
            metrics.get("bypass");
            return load(key, loader).thenApply(Loaded::value);
        }
        hotKeys.record(key); // counted, but a token read never takes a hot key's copy
        // tokens come from the application's callers: one beyond the primary's position is refused
        return positions.check(token, history).thenCompose(ok -> tokenRead(key, loader, token, history));
    }

    private CompletableFuture<T> tokenRead(String key, Loader<T> loader, long token, String history) {
        long missedAt = System.nanoTime();
        // the watermark is read before the entry: then the entry reflects every invalidation the
        // watermark covers (one connection keeps the order; a cluster's nodes do not, so it waits)
        CompletableFuture<OptionalLong> applied = redis.appliedLsn(appliedLsnKey, history)
                .handle((lsn, error) -> error == null ? lsn : OptionalLong.empty());
        CompletableFuture<CacheRedis.Read> read = redis.orderedAfter(applied, () -> redis.read(key, name))
                .handle((r, error) -> error == null ? r : null);
        return applied.thenCombine(read, (lsn, r) -> afterTokenRead(key, loader, token, lsn, r, missedAt))
                .thenCompose(value -> value);
    }

    private CompletableFuture<T> afterTokenRead(String key, Loader<T> loader, long token, OptionalLong applied, CacheRedis.Read read,
            long missedAt) {
        if (read == null) {
            metrics.tokenRead(false);
            metrics.get("error");
            return tokenLoad(key, loader).thenApply(Loaded::value);
        }
        boolean covered = applied.isPresent() && applied.getAsLong() >= token;
        boolean fresh = read.softExpiry() == null || clock.millis() < read.softExpiry()
                || policy.consistency() == Policy.Consistency.EVENTUAL;
        if (covered && read.present() && fresh) {
            metrics.tokenRead(true);
            metrics.get(read.notFound() ? "negative" : "hit");
            sample(key, read, loader);
            return CompletableFuture.completedFuture(read.notFound() ? null : codec.decode(read.data()));
        }
        // the fill is judged against this reader's own miss read, taken before the shared load started
        CompletableFuture<Loaded<T>> loading = tokenLoad(key, loader);
        metrics.tokenRead(false); // after joining a load: a count tells how many readers wait on one
        metrics.get("miss");
        return loading.thenCompose(loaded -> fill(key, loaded, read, read.present(), missedAt));
    }

    /** One key's token loads: the one running, and the one that will start after it (which readers arriving now join). */
    private static final class TokenLoads<T> {
        CompletableFuture<Loaded<T>> running;
        CompletableFuture<Loaded<T>> next;
        Loader<T> nextLoader;
    }

    /**
     * A load for a token reader that arrived now: the pending load of its key, which starts after
     * the running one ends (or at once). Never a load that already started: it may have read the row
     * before this reader's write committed. At most one load runs and one waits per key.
     */
    private CompletableFuture<Loaded<T>> tokenLoad(String key, Loader<T> loader) {
        @SuppressWarnings("unchecked")
        CompletableFuture<Loaded<T>>[] joined = new CompletableFuture[1];
        boolean[] start = {false};
        tokenLoads.compute(key, (k, s) -> {
            TokenLoads<T> state = s == null ? new TokenLoads<>() : s;
            if (state.next == null) {
                state.next = new CompletableFuture<>();
                state.nextLoader = loader;
                start[0] = state.running == null;
            }
            joined[0] = state.next;
            return state;
        });
        if (start[0]) {
            startTokenLoad(key);
        }
        return joined[0];
    }

    private void startTokenLoad(String key) {
        @SuppressWarnings("unchecked")
        CompletableFuture<Loaded<T>>[] promise = new CompletableFuture[1];
        @SuppressWarnings("unchecked")
        Loader<T>[] loader = new Loader[1];
        tokenLoads.computeIfPresent(key, (k, state) -> {
            promise[0] = state.next;
            loader[0] = state.nextLoader;
            state.running = state.next;
            state.next = null;
            state.nextLoader = null;
            return state;
        });
        load(key, loader[0]).whenComplete((loaded, error) -> {
            boolean[] again = {false};
            tokenLoads.computeIfPresent(key, (k, state) -> {
                state.running = null;
                again[0] = state.next != null;
                return again[0] ? state : null;
            });
            if (again[0]) {
                startTokenLoad(key);
            }
            if (error != null) {
                promise[0].completeExceptionally(error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                        ? error.getCause()
                        : error);
            } else {
                promise[0].complete(loaded);
            }
        });
    }

    private static <V> V join(String key, CompletableFuture<V> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CacheLoadException("interrupted while reading " + key, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof TokenAheadOfPrimaryException refused) {
                throw refused;
            }
            throw cause instanceof CacheLoadException c ? c : new CacheLoadException("cannot read " + key + ": " + cause, cause);
        }
    }

    /** As {@link #get}, without blocking the caller. */
    public CompletableFuture<T> getAsync(String key, Loader<T> loader) {
        if (policy.consistency() == Policy.Consistency.STRONG) {
            metrics.get("bypass");
            return load(key, loader).thenApply(Loaded::value);
        }
        boolean hot = hotKeys.record(key);
        NearCache.Entry copy = hot && hotCopies != null ? hotCopies.getIfPresent(key) : null;
        if (fresh(copy)) {
            metrics.hotHit();
            return served(copy);
        }
        NearCache.Entry cached = near == null ? null : near.get(key);
        if (fresh(cached)) {
            metrics.nearHit();
            return served(cached);
        }
        long token = near == null ? 0 : near.beginRead(key);
        long missedAt = System.nanoTime();
        return redis.read(key, name).handle((read, error) -> {
            if (error != null) {
                LOG.debug("namespace {}: Redis read of a key failed, loading uncached: {}", name, error.toString());
                return null;
            }
            return read;
        }).thenCompose(read -> afterRead(key, loader, read, token, missedAt));
    }

    /** A local copy (near cache, hot key) that may be served: present, and not past its soft expiry. */
    private boolean fresh(NearCache.Entry copy) {
        return copy != null && (copy.softExpiry() == null || clock.millis() < copy.softExpiry());
    }

    /** A local copy served as a hit. */
    private CompletableFuture<T> served(NearCache.Entry copy) {
        metrics.get(copy.notFound() ? "negative" : "hit");
        @SuppressWarnings("unchecked")
        T value = (T) copy.value();
        return CompletableFuture.completedFuture(value);
    }

    private CompletableFuture<T> afterRead(String key, Loader<T> loader, CacheRedis.Read read, long token, long missedAt) {
        if (read == null) {
            metrics.get("error");
            if (near != null && !policy.staleOnOutage().isZero()) {
                NearCache.Entry kept = near.getStale(key, policy.staleOnOutage());
                if (kept != null) {
                    metrics.staleServe();
                    @SuppressWarnings("unchecked")
                    T value = (T) kept.value();
                    return CompletableFuture.completedFuture(value);
                }
            }
            // uncached: nothing to fill, but concurrent reads of the key still share the one load
            return singleFlight(key, () -> load(key, loader).thenApply(Loaded::value));
        }
        if (read.present()) {
            boolean soft = read.softExpiry() != null && clock.millis() >= read.softExpiry();
            if (!soft) {
                metrics.get(read.notFound() ? "negative" : "hit");
                sample(key, read, loader);
                T value = read.notFound() ? null : codec.decode(read.data());
                if (near != null) {
                    near.completeRead(key, token, new NearCache.Entry(value, read.notFound(), read.softExpiry()));
                }
                if (hotCopies != null && hotKeys.isHot(key)) {
                    hotCopies.put(key, new NearCache.Entry(value, read.notFound(), read.softExpiry()));
                }
                if (refreshEarly(read)) {
                    metrics.earlyRefresh();
                    refreshInBackground(key, loader, read, missedAt);
                }
                return CompletableFuture.completedFuture(value);
            }
            if (policy.consistency() == Policy.Consistency.BOUNDED) {
                metrics.get("miss");
                return singleFlight(key, loader, read, true, missedAt);
            }
            metrics.get("stale");
            refreshInBackground(key, loader, read, missedAt);
            return CompletableFuture.completedFuture(read.notFound() ? null : codec.decode(read.data()));
        }
        metrics.get("miss");
        return singleFlight(key, loader, read, false, missedAt);
    }

    /** A load's time: the timer, and the decaying mean XFetch weighs by. */
    private void recordLoad(long nanos) {
        metrics.load(nanos);
        double mean = meanLoadNanos;
        meanLoadNanos = mean == 0 ? nanos : mean * 0.9 + nanos * 0.1;
    }

    /**
     * XFetch: whether this hit refreshes its entry now, before its soft expiry, with a probability
     * that grows as the expiry nears and with the namespace's load time ({@link Policy#withEarlyRefresh}).
     */
    private boolean refreshEarly(CacheRedis.Read read) {
        if (policy.earlyRefresh() == 0 || read.softExpiry() == null) {
            return false;
        }
        double u = 1.0 - ThreadLocalRandom.current().nextDouble(); // (0, 1]
        double aheadMillis = -(meanLoadNanos / 1e6) * policy.earlyRefresh() * Math.log(u);
        return clock.millis() + aheadMillis >= read.softExpiry();
    }

    /**
     * What {@link #lookup} found: a hit's value, or a miss that remembers the fence read at it, for
     * {@link #fill(Lookup, Loaded)}.
     */
    public static final class Lookup<T> {
        private final String key;
        private final boolean hit;
        private final T value;
        /** The miss read (null on a hit, in a strong namespace, or when Redis failed: then nothing is filled). */
        private final CacheRedis.Read miss;
        private final long missedAt;

        private Lookup(String key, boolean hit, T value, CacheRedis.Read miss, long missedAt) {
            this.key = key;
            this.hit = hit;
            this.value = value;
            this.miss = miss;
            this.missedAt = missedAt;
        }

        public String key() {
            return key;
        }

        /** Whether the cache held the key (its value may be null: cached as not found). */
        public boolean hit() {
            return hit;
        }

        /** A hit's value (null when cached as not found, and on a miss). */
        public T value() {
            return value;
        }

        @Override
        public String toString() {
            return "Lookup[" + (hit ? "hit" : "miss") + "]"; // never the key or the value
        }
    }

    /**
     * The first half of {@link #get}, for frameworks that load between their read and their write
     * (Spring's {@code @Cacheable} without {@code sync}): the cached value, or a miss that carries
     * the fence counter read at it. Hand the miss to {@link #fill(Lookup, Loaded)} with what the
     * caller then loaded, so an invalidation that landed in between refuses that fill. Prefer
     * {@link #get}: this has no single-flight, admission control or stale-while-revalidate (a
     * soft-expired entry is a miss here).
     */
    public Lookup<T> lookup(String key) {
        java.util.Objects.requireNonNull(key, "key");
        if (policy.consistency() == Policy.Consistency.STRONG) {
            metrics.get("bypass");
            return new Lookup<>(key, false, null, null, 0);
        }
        hotKeys.record(key); // counted; a lookup reads Redis, never a hot key's untracked copy
        if (near != null) {
            NearCache.Entry cached = near.get(key);
            if (cached != null && (cached.softExpiry() == null || clock.millis() < cached.softExpiry())) {
                metrics.get(cached.notFound() ? "negative" : "hit");
                metrics.nearHit();
                @SuppressWarnings("unchecked")
                T value = (T) cached.value();
                return new Lookup<>(key, true, value, null, 0);
            }
        }
        long token = near == null ? 0 : near.beginRead(key);
        long missedAt = System.nanoTime();
        CacheRedis.Read read = join(key, redis.read(key, name).handle((r, error) -> {
            if (error != null) {
                LOG.debug("namespace {}: Redis read of a key failed, its value will not be filled: {}", name, error.toString());
                return null;
            }
            return r;
        }));
        if (read == null) {
            metrics.get("error");
            return new Lookup<>(key, false, null, null, missedAt);
        }
        if (read.present() && (read.softExpiry() == null || clock.millis() < read.softExpiry())) {
            metrics.get(read.notFound() ? "negative" : "hit");
            T value = read.notFound() ? null : codec.decode(read.data());
            if (near != null) {
                near.completeRead(key, token, new NearCache.Entry(value, read.notFound(), read.softExpiry()));
            }
            return new Lookup<>(key, true, value, null, 0);
        }
        metrics.get("miss");
        return new Lookup<>(key, false, null, read, missedAt);
    }

    /**
     * The second half of {@link #get}: fills what the caller loaded after {@code miss}, under the
     * fence read at that miss (refused, like any fill, when the key was invalidated since, or when
     * the load took longer than the fence TTL). Returns the loaded value, filled or not.
     *
     * @throws IllegalArgumentException when {@code miss} is a hit
     */
    public T fill(Lookup<T> miss, Loaded<T> loaded) {
        java.util.Objects.requireNonNull(loaded, "loaded");
        if (miss.hit) {
            throw new IllegalArgumentException("fill needs a miss, " + miss + " was a hit");
        }
        if (miss.miss == null) {
            return loaded.value(); // strong namespace, or Redis failed at the miss: nothing to fence a fill with
        }
        return join(miss.key, fill(miss.key, loaded, miss.miss, miss.miss.present(), miss.missedAt));
    }

    /**
     * The values of {@code keys}: the hits from the near cache and from Redis, read pipelined (each
     * Redis node gets all of its keys' reads at once and answers them in one round trip), and all
     * the misses loaded in one call of {@code loader}, each then filled under its own fence as
     * {@link #get} fills one key: a key invalidated while the batch loaded is not filled. Misses of
     * keys another read of this process is loading already share that load (single-flight); the
     * batch is one load for admission control ({@link Policy#withLoadLimits}). The cross-process
     * fill lock ({@link Policy#withFillLock}) is not taken. When Redis fails, the keys are loaded
     * and returned uncached, as {@link #get} does.
     *
     * @return the values found, in the order of {@code keys}; a key not found is absent
     * @throws CacheLoadException when the loader failed
     */
    public java.util.Map<String, T> getAll(java.util.Collection<String> keys, BulkLoader<T> loader) {
        return join(keys.size() + " keys", getAllAsync(keys, loader));
    }

    /** As {@link #getAll}, without blocking the caller. */
    public CompletableFuture<java.util.Map<String, T>> getAllAsync(java.util.Collection<String> keys, BulkLoader<T> loader) {
        java.util.Objects.requireNonNull(loader, "loader");
        java.util.List<String> distinct = new java.util.ArrayList<>(new java.util.LinkedHashSet<>(keys));
        java.util.Map<String, CompletableFuture<T>> values = new java.util.LinkedHashMap<>();
        if (policy.consistency() == Policy.Consistency.STRONG) {
            distinct.forEach(k -> metrics.get("bypass"));
            java.util.Map<String, CompletableFuture<Loaded<T>>> loaded = loadBulk(distinct, loader);
            distinct.forEach(k -> values.put(k, loaded.get(k).thenApply(Loaded::value)));
            return collect(values);
        }
        java.util.Map<String, Long> nearTokens = new java.util.HashMap<>();
        java.util.Map<String, CompletableFuture<CacheRedis.Read>> reads = new java.util.LinkedHashMap<>();
        for (String key : distinct) {
            hotKeys.record(key); // counted; a batch reads Redis, never a hot key's untracked copy
            NearCache.Entry cached = near == null ? null : near.get(key);
            if (cached != null && (cached.softExpiry() == null || clock.millis() < cached.softExpiry())) {
                metrics.get(cached.notFound() ? "negative" : "hit");
                metrics.nearHit();
                @SuppressWarnings("unchecked")
                T value = (T) cached.value();
                values.put(key, CompletableFuture.completedFuture(value));
                continue;
            }
            nearTokens.put(key, near == null ? 0 : near.beginRead(key));
            values.put(key, null); // keeps the order; set below
        }
        long missedAt = System.nanoTime();
        // every read sent before any reply is awaited: one round trip per node
        nearTokens.keySet().forEach(key -> reads.put(key, redis.read(key, name).handle((read, error) -> {
            if (error != null) {
                LOG.debug("namespace {}: Redis read of a key failed, loading uncached: {}", name, error.toString());
                return null;
            }
            return read;
        })));
        return CompletableFuture.allOf(reads.values().toArray(CompletableFuture[]::new)).thenCompose(x -> {
            Loader<T> one = single(loader);
            java.util.Map<String, CacheRedis.Read> misses = new java.util.LinkedHashMap<>();
            java.util.Map<String, Boolean> replace = new java.util.HashMap<>();
            java.util.List<String> uncached = new java.util.ArrayList<>();
            reads.forEach((key, future) -> {
                CacheRedis.Read read = future.join();
                if (read == null) {
                    metrics.get("error");
                    NearCache.Entry kept = near != null && !policy.staleOnOutage().isZero()
                            ? near.getStale(key, policy.staleOnOutage())
                            : null;
                    if (kept != null) {
                        metrics.staleServe();
                        @SuppressWarnings("unchecked")
                        T value = (T) kept.value();
                        values.put(key, CompletableFuture.completedFuture(value));
                    } else {
                        uncached.add(key);
                    }
                    return;
                }
                boolean soft = read.present() && read.softExpiry() != null && clock.millis() >= read.softExpiry();
                if (read.present() && !soft) {
                    metrics.get(read.notFound() ? "negative" : "hit");
                    sample(key, read, one);
                    T value = read.notFound() ? null : codec.decode(read.data());
                    if (near != null) {
                        near.completeRead(key, nearTokens.get(key), new NearCache.Entry(value, read.notFound(), read.softExpiry()));
                    }
                    values.put(key, CompletableFuture.completedFuture(value));
                } else if (read.present() && policy.consistency() != Policy.Consistency.BOUNDED) {
                    metrics.get("stale");
                    refreshInBackground(key, one, read, missedAt);
                    values.put(key, CompletableFuture.completedFuture(read.notFound() ? null : codec.decode(read.data())));
                } else {
                    metrics.get("miss");
                    misses.put(key, read);
                    replace.put(key, read.present());
                }
            });
            // single-flight: a key some read of this process is loading already joins that load
            java.util.Map<String, CompletableFuture<T>> mine = new java.util.LinkedHashMap<>();
            for (String key : misses.keySet()) {
                values.put(key, claim(key, mine));
            }
            for (String key : uncached) {
                values.put(key, claim(key, mine));
            }
            if (!mine.isEmpty()) {
                java.util.Map<String, CompletableFuture<Loaded<T>>> loaded = loadBulk(new java.util.ArrayList<>(mine.keySet()), loader);
                mine.forEach((key, promise) -> {
                    CacheRedis.Read miss = misses.get(key);
                    CompletableFuture<T> value = miss == null
                            ? loaded.get(key).thenApply(Loaded::value)
                            : loaded.get(key).thenCompose(l -> fill(key, l, miss, replace.get(key), missedAt));
                    value.whenComplete((v, error) -> {
                        inflight.remove(key, promise);
                        if (error != null) {
                            promise.completeExceptionally(
                                    error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
                        } else {
                            promise.complete(v);
                        }
                    });
                });
            }
            return collect(values);
        });
    }

    /** The running load of {@code key} in this process, or a new promise of this batch's (added to {@code mine}). */
    private CompletableFuture<T> claim(String key, java.util.Map<String, CompletableFuture<T>> mine) {
        CompletableFuture<T> promise = new CompletableFuture<>();
        CompletableFuture<T> running = inflight.putIfAbsent(key, promise);
        if (running != null) {
            return running;
        }
        mine.put(key, promise);
        return promise;
    }

    /** The found values, in order, once every one is in. */
    private static <T> CompletableFuture<java.util.Map<String, T>> collect(java.util.Map<String, CompletableFuture<T>> values) {
        return CompletableFuture.allOf(values.values().toArray(CompletableFuture[]::new)).thenApply(x -> {
            java.util.Map<String, T> found = new java.util.LinkedHashMap<>();
            values.forEach((key, value) -> {
                T v = value.join();
                if (v != null) {
                    found.put(key, v);
                }
            });
            return found;
        });
    }

    /** One key through a bulk loader (background refreshes and shadow reads of a batch's hits). */
    private static <T> Loader<T> single(BulkLoader<T> bulk) {
        return key -> {
            java.util.Map<String, Loaded<T>> loaded = bulk.load(java.util.Set.of(key));
            Loaded<T> value = loaded == null ? null : loaded.get(key);
            return value == null ? Loaded.notFound() : value;
        };
    }

    /**
     * Calls the bulk loader once for {@code keys} on a loader thread, once admission control let
     * it (one load), and hands each key its result.
     */
    private java.util.Map<String, CompletableFuture<Loaded<T>>> loadBulk(java.util.List<String> keys, BulkLoader<T> loader) {
        long askedAt = System.nanoTime();
        CompletableFuture<java.util.Map<String, Loaded<T>>> all = CompletableFuture.supplyAsync(() -> {
            LoadAdmission.Permit permit;
            try {
                permit = admission.admit(keys.size() + " keys", askedAt);
            } catch (LoadRejectedException e) {
                metrics.loadRejected(e.reason());
                throw e;
            }
            long t0 = System.nanoTime();
            try {
                java.util.Map<String, Loaded<T>> loaded = loader
                        .load(java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(keys)));
                if (loaded == null) {
                    throw new CacheLoadException(
                            "bulk loader returned null for " + keys.size() + " keys; return a map without the keys not found");
                }
                return loaded;
            } catch (CacheLoadException e) {
                throw e;
            } catch (Exception e) {
                throw new CacheLoadException("loading " + keys.size() + " keys failed: " + e, e);
            } finally {
                permit.release();
                recordLoad(System.nanoTime() - t0);
            }
        }, loaders);
        java.util.Map<String, CompletableFuture<Loaded<T>>> each = new java.util.LinkedHashMap<>();
        for (String key : keys) {
            each.put(key, all.thenApply(map -> {
                Loaded<T> l = map.get(key);
                return l == null ? Loaded.<T>notFound() : l;
            }));
        }
        return each;
    }

    /**
     * Shadow reads: about one hit in {@link Policy#shadowReads()} is handed to the inspection,
     * which checks it against the loader off the request path (this returns at once).
     */
    private void sample(String key, CacheRedis.Read read, Loader<T> loader) {
        if (inspection == null || ThreadLocalRandom.current().nextInt(policy.shadowReads()) != 0) {
            return;
        }
        inspection.submit(name, key, new Inspection.Served(read.data(), read.version(), read.notFound()), codec, loader,
                policy.fenceTtl(), metrics);
    }

    /** One load per key at a time in this process; the others wait for its result. */
    private CompletableFuture<T> singleFlight(String key, Loader<T> loader, CacheRedis.Read miss, boolean replace, long missedAt) {
        return singleFlight(key, () -> loadAndFill(key, loader, miss, replace, missedAt));
    }

    /**
     * Runs {@code work} unless a load of {@code key} is running in this process already (a miss's
     * load and fill, or an outage's uncached load): then its result is shared.
     */
    private CompletableFuture<T> singleFlight(String key, java.util.function.Supplier<CompletableFuture<T>> work) {
        CompletableFuture<T> mine = new CompletableFuture<>();
        CompletableFuture<T> running = inflight.putIfAbsent(key, mine);
        if (running != null) {
            return running;
        }
        work.get().whenComplete((value, error) -> {
            inflight.remove(key, mine);
            if (error != null) {
                mine.completeExceptionally(error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
            } else {
                mine.complete(value);
            }
        });
        return mine;
    }

    /**
     * At most one background refresh per key at a time in this process. A read that saw the stale
     * entry just before a refresh landed may start one more once it has finished: that load is
     * as fresh as the first, and its fill replaces the entry only if nothing invalidated the key
     * since that read (the fence counter).
     */
    private void refreshInBackground(String key, Loader<T> loader, CacheRedis.Read miss, long missedAt) {
        if (refreshing.putIfAbsent(key, Boolean.TRUE) != null) {
            return;
        }
        loadAndFill(key, loader, miss, true, missedAt).whenComplete((v, e) -> {
            refreshing.remove(key);
            if (e != null) {
                LOG.debug("namespace {}: background refresh failed: {}", name, e.toString());
            }
        });
    }

    private CompletableFuture<T> loadAndFill(String key, Loader<T> loader, CacheRedis.Read miss, boolean replace, long missedAt) {
        if (policy.fillLock().isZero()) {
            return load(key, loader).thenCompose(loaded -> fill(key, loaded, miss, replace, missedAt));
        }
        String token = UUID.randomUUID().toString();
        return redis.tryLock(key, token, policy.fillLock()).exceptionally(e -> true).thenCompose(acquired -> {
            if (acquired) {
                return load(key, loader).thenCompose(loaded -> fill(key, loaded, miss, replace, missedAt))
                        .whenComplete((v, e) -> redis.unlock(key, token));
            }
            long deadline = System.nanoTime() + policy.fillLock().toNanos();
            return awaitOtherFill(key, deadline).thenCompose(filled -> filled.isPresent()
                    ? CompletableFuture.completedFuture(filled.get().orElse(null))
                    : load(key, loader).thenCompose(loaded -> fill(key, loaded, miss, replace, missedAt)));
        });
    }

    /**
     * Polls until another process filled the key (its value, maybe null for not-found), the
     * deadline passed or Redis failed (its breaker opened): then empty, and this process loads.
     */
    private CompletableFuture<Optional<Optional<T>>> awaitOtherFill(String key, long deadline) {
        return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(LOCK_POLL.toMillis(), TimeUnit.MILLISECONDS))
                .thenCompose(x -> redis.read(key, name).handle((read, error) -> error == null ? read : null))
                .thenCompose(read -> {
                    if (read == null) {
                        return CompletableFuture.completedFuture(Optional.empty()); // Redis failed: load it here
                    }
                    if (read.present()) {
                        return CompletableFuture
                                .completedFuture(Optional.of(Optional.ofNullable(read.notFound() ? null : codec.decode(read.data()))));
                    }
                    if (System.nanoTime() > deadline) {
                        return CompletableFuture.completedFuture(Optional.empty());
                    }
                    return awaitOtherFill(key, deadline);
                });
    }

    /** Calls the loader on a loader thread, once the namespace's admission control let it ({@link LoadRejectedException} if not). */
    private CompletableFuture<Loaded<T>> load(String key, Loader<T> loader) {
        long askedAt = System.nanoTime();
        return CompletableFuture.supplyAsync(() -> {
            LoadAdmission.Permit permit;
            try {
                permit = admission.admit(key, askedAt);
            } catch (LoadRejectedException e) {
                metrics.loadRejected(e.reason());
                throw e;
            }
            long t0 = System.nanoTime();
            try {
                Loaded<T> loaded = loader.load(key);
                if (loaded == null) {
                    throw new CacheLoadException("loader returned null for " + key + "; return Loaded.notFound() instead");
                }
                return loaded;
            } catch (CacheLoadException e) {
                throw e;
            } catch (Exception e) {
                throw new CacheLoadException("loading " + key + " failed: " + e, e);
            } finally {
                permit.release();
                recordLoad(System.nanoTime() - t0);
            }
        }, loaders);
    }

    private CompletableFuture<T> fill(String key, Loaded<T> loaded, CacheRedis.Read miss, boolean replace, long missedAt) {
        if (!loaded.found() && policy.negativeTtl().isZero()) {
            return CompletableFuture.completedFuture(null);
        }
        if (System.nanoTime() - missedAt >= policy.fenceTtl().toNanos()) {
            // An invalidation that landed during this load may have left a fence that expired
            // before the fill: nothing in Redis could refuse the old value, so it is not written.
            metrics.fillRefusedSlowLoad();
            return CompletableFuture.completedFuture(loaded.value());
        }
        Duration ttl = loaded.found() ? policy.ttl() : policy.negativeTtl();
        long ttlMillis = ttl.isZero() ? 0 : jittered(ttl.toMillis());
        Long soft = null;
        if (policy.consistency() == Policy.Consistency.BOUNDED) {
            soft = clock.millis() + policy.maxAge().toMillis();
        } else if (!policy.softTtl().isZero()) {
            soft = clock.millis() + policy.softTtl().toMillis();
        }
        byte[] payload = loaded.found() ? codec.encode(loaded.value()) : new byte[0];
        String version = loaded.version() == null ? "0" : loaded.version();
        // written under a lease, given its TTL only once the epoch is confirmed: a process that
        // dies in between leaves nothing unchecked beyond the lease
        boolean leased = ttlMillis == 0 || ttlMillis > CacheRedis.FILL_LEASE_MILLIS;
        long writeTtl = leased ? CacheRedis.FILL_LEASE_MILLIS : ttlMillis;
        return redis.fill(key, version, miss.fenceCounter(), payload, writeTtl, soft, replace, !loaded.found())
                .handle((FillResult result, Throwable error) -> {
                    if (error != null) {
                        LOG.debug("namespace {}: fill failed, value served uncached: {}", name, error.toString());
                    }
                    return Optional.ofNullable(error == null ? result : null);
                })
                .thenCompose(result -> {
                    if (result.isPresent() && !result.get().accepted()) {
                        metrics.fill(false);
                        return CompletableFuture.completedFuture(loaded.value());
                    }
                    // accepted, or failed in a way that may still have written it (a timeout): confirmed alike
                    return confirmEpoch(key, version, miss.epoch())
                            .thenCompose(kept -> kept && leased
                                    ? endLease(key, version, payload, ttlMillis).thenApply(x -> true)
                                    : CompletableFuture.completedFuture(kept))
                            .thenApply(kept -> {
                                result.ifPresent(r -> metrics.fill(kept));
                                return loaded.value();
                            });
                });
    }

    /**
     * After an accepted fill: if a pattern or namespace-wide invalidation started since the miss
     * (the namespace epoch moved), its scan may have passed this key before the fill landed, so
     * the fill is undone. An epoch that cannot be read confirms nothing: the fill is undone too.
     * Returns whether the fill stays.
     */
    private CompletableFuture<Boolean> confirmEpoch(String key, String version, String epochAtMiss) {
        return redis.epoch(name).handle((now, error) -> error == null && now.equals(epochAtMiss)).thenCompose(confirmed -> confirmed
                ? CompletableFuture.completedFuture(true)
                : undo(key, version, System.nanoTime() + policy.fenceTtl().toNanos(), UNDO_BACKOFF_MIN).thenApply(x -> false));
    }

    /** Gives a confirmed fill its real TTL; if that fails, the lease ends it (a miss later, never a stale value). */
    private CompletableFuture<Void> endLease(String key, String version, byte[] payload, long ttlMillis) {
        return redis.confirm(key, version, payload, ttlMillis).handle((r, error) -> {
            if (error != null) {
                LOG.debug("namespace {}: a fill's TTL could not be set, it ends with its lease: {}", name, error.toString());
            }
            return null;
        });
    }

    /**
     * Undoes an unconfirmed fill, trying again with backoff while Redis fails, for up to a fence
     * TTL: the value may be older than the scan that passed its key, and nothing else removes it
     * before its TTL. Given up, it is counted ({@code lethe.cache.fills{result=undo-failed}}) and logged.
     * The returned stage ends with the first attempt: a reader waits for that one, not for the
     * retries of an outage (they go on in the background).
     */
    private CompletableFuture<Void> undo(String key, String version, long deadline, Duration backoff) {
        return redis.undoFill(key, version, policy.fenceTtl().toMillis()).handle((r, error) -> error).thenApply(error -> {
            if (error != null) {
                retryUndo(key, version, deadline, backoff, error);
            }
            return null;
        });
    }

    /** Tries the undo again after {@code backoff}, doubling it, until it succeeds or {@code deadline} would pass. */
    private void retryUndo(String key, String version, long deadline, Duration backoff, Throwable error) {
        if (System.nanoTime() + backoff.toNanos() > deadline) {
            metrics.fillUndoFailed();
            LOG.warn("namespace {}: a fill that a namespace-wide invalidation may have overtaken could not be undone ({}); "
                    + "it stays until its TTL", name, error.toString());
            return;
        }
        Duration next = backoff.multipliedBy(2).compareTo(UNDO_BACKOFF_MAX) > 0 ? UNDO_BACKOFF_MAX : backoff.multipliedBy(2);
        CompletableFuture.runAsync(() -> {
        }, CompletableFuture.delayedExecutor(backoff.toMillis(), TimeUnit.MILLISECONDS))
                .thenCompose(x -> redis.undoFill(key, version, policy.fenceTtl().toMillis()).handle((r, again) -> again))
                .thenAccept(again -> {
                    if (again != null) {
                        retryUndo(key, version, deadline, next, again);
                    }
                });
    }

    private long jittered(long millis) {
        if (policy.jitter() == 0) {
            return millis;
        }
        double factor = 1 + ThreadLocalRandom.current().nextDouble(-policy.jitter(), policy.jitter());
        return Math.max(1, Math.round(millis * factor));
    }
}
