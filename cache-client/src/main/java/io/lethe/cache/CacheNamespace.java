package io.lethe.cache;

import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;

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
    /**
     * Hot keys: a key is hot while it takes at least 1 % of the namespace's reads (100 of a window
     * of 10,000 reads, counts halved after each window), at most 64 at once.
     */
    static final int HOT_WINDOW = 10_000;
    static final int HOT_THRESHOLD = 100;
    static final int HOT_CAPACITY = 64;

    private final String name;
    private final Policy policy;
    private final CacheMetrics metrics;
    /** The region's applied-watermark key for read-your-writes, or null when the cache was built without one. */
    private final String appliedLsnKey;
    /** The namespace's reads in this process, counted to find its hot keys. */
    private final HotKeys hotKeys = new HotKeys(HOT_WINDOW, HOT_THRESHOLD, HOT_CAPACITY);

    private final NamespaceLoads<T> loads;
    private final FencedFill<T> fills;
    private final KeyReads<T> keys;
    private final TokenReads<T> tokens;
    private final BatchReads<T> batches;

    CacheNamespace(String name, String holds, Codec<T> codec, Policy policy, CacheRedis redis, CacheMetrics metrics, Clock clock,
            ExecutorService loaders, NearCache near, String appliedLsnKey, Inspection inspection, PrimaryPositions positions) {
        this.name = name;
        this.policy = policy;
        this.metrics = metrics;
        this.appliedLsnKey = appliedLsnKey;
        NamespaceContext<T> ns = new NamespaceContext<>(name, holds, codec, policy, redis, metrics, clock);
        this.loads = new NamespaceLoads<>(name, policy, metrics, loaders);
        this.fills = new FencedFill<>(ns);
        SingleFlight<T> flights = new SingleFlight<>(ns, loads, fills);
        ShadowReads<T> shadow = new ShadowReads<>(ns, inspection);
        this.keys = new KeyReads<>(ns, near, hotKeys, loads, flights, shadow);
        this.tokens = new TokenReads<>(ns, appliedLsnKey, positions, loads, fills, shadow);
        this.batches = new BatchReads<>(ns, near, hotKeys, loads, flights, fills, shadow);
        metrics.hotKeys(hotKeys);
    }

    /**
     * The keys this process reads most in this namespace now, hottest first, at most {@code n}: a key
     * is hot while it takes at least 1 % of the namespace's reads (estimated by a frequency sketch of
     * the last ~10,000 reads; see {@link HotKeys}). Also the gauge {@code lethe.cache.hot.keys}. Keys
     * can hold personal data, which is why they are given here and never as metric tags.
     */
    public List<HotKey> hotKeys(int n) {
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
            return loads.load(key, loader).thenApply(Loaded::value);
        }
        hotKeys.record(key); // counted, but a token read never takes a hot key's copy
        return tokens.read(key, loader, token, history);
    }

    static <V> V join(String key, CompletableFuture<V> future) {
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
            return loads.load(key, loader).thenApply(Loaded::value);
        }
        return keys.read(key, loader);
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

        Lookup(String key, boolean hit, T value, CacheRedis.Read miss, long missedAt) {
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
        Objects.requireNonNull(key, "key");
        if (policy.consistency() == Policy.Consistency.STRONG) {
            metrics.get("bypass");
            return new Lookup<>(key, false, null, null, 0);
        }
        return keys.lookup(key);
    }

    /**
     * The second half of {@link #get}: fills what the caller loaded after {@code miss}, under the
     * fence read at that miss (refused, like any fill, when the key was invalidated since, or when
     * the load took longer than the fence TTL). Returns the loaded value, filled or not.
     *
     * @throws IllegalArgumentException when {@code miss} is a hit
     */
    public T fill(Lookup<T> miss, Loaded<T> loaded) {
        Objects.requireNonNull(loaded, "loaded");
        if (miss.hit) {
            throw new IllegalArgumentException("fill needs a miss, " + miss + " was a hit");
        }
        if (miss.miss == null) {
            return loaded.value(); // strong namespace, or Redis failed at the miss: nothing to fence a fill with
        }
        return join(miss.key, fills.fill(miss.key, loaded, miss.miss, miss.miss.present(), miss.missedAt));
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
    public Map<String, T> getAll(Collection<String> keys, BulkLoader<T> loader) {
        return join(keys.size() + " keys", getAllAsync(keys, loader));
    }

    /** As {@link #getAll}, without blocking the caller. */
    public CompletableFuture<Map<String, T>> getAllAsync(Collection<String> keys, BulkLoader<T> loader) {
        Objects.requireNonNull(loader, "loader");
        return batches.read(keys, loader);
    }
}
