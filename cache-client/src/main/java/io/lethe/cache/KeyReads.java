package io.lethe.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads of one key of a cached (eventual or bounded) namespace: a hot key's copy or the near
 * cache, else Redis; a hit may start an early refresh (XFetch), a soft-expired entry is served
 * while it is refreshed (eventual) or is a miss (bounded); a miss is loaded and filled once per
 * key ({@link SingleFlight}); when Redis fails the value is loaded uncached, or an eventual
 * namespace serves its near-cache copy while it is young enough ({@link Policy#withStaleOnOutage}).
 * Also the first half of the two-phase read ({@link CacheNamespace#lookup}).
 */
final class KeyReads<T> {
    /** Logs under {@link CacheNamespace}'s name, as the namespace's read path always has. */
    private static final Logger LOG = LoggerFactory.getLogger(CacheNamespace.class);

    private final NamespaceContext<T> ns;
    private final String name;
    private final Policy policy;
    private final CacheMetrics metrics;
    /** The near cache, or null. */
    private final NearCache near;
    private final HotKeys hotKeys;
    /** Untracked copies of hot keys ({@link Policy#withHotKeyCopies}), or null: off, or a tracked near cache holds them. */
    private final Cache<String, NearCache.Entry> hotCopies;
    private final NamespaceLoads<T> loads;
    private final SingleFlight<T> flights;
    private final ShadowReads<T> shadow;

    KeyReads(NamespaceContext<T> ns, NearCache near, HotKeys hotKeys, NamespaceLoads<T> loads, SingleFlight<T> flights,
            ShadowReads<T> shadow) {
        this.ns = ns;
        this.name = ns.name();
        this.policy = ns.policy();
        this.metrics = ns.metrics();
        this.near = near;
        this.hotKeys = hotKeys;
        this.hotCopies = policy.hotKeyCopies().isZero() || near != null
                ? null
                : Caffeine.newBuilder().maximumSize(CacheNamespace.HOT_CAPACITY * 2L).expireAfterWrite(policy.hotKeyCopies()).build();
        this.loads = loads;
        this.flights = flights;
        this.shadow = shadow;
    }

    /** The value of {@code key}: a local copy, the Redis entry, or loaded (and filled). */
    CompletableFuture<T> read(String key, Loader<T> loader) {
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
        return ns.read(key).handle((read, error) -> {
            if (error != null) {
                LOG.debug("namespace {}: Redis read of a key failed, loading uncached: {}", name, error.toString());
                return null;
            }
            return read;
        }).thenCompose(read -> afterRead(key, loader, read, token, missedAt));
    }

    /** A local copy (near cache, hot key) that may be served: present, and not past its soft expiry. */
    private boolean fresh(NearCache.Entry copy) {
        return copy != null && ns.fresh(copy.softExpiry());
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
            return flights.run(key, () -> loads.load(key, loader).thenApply(Loaded::value));
        }
        if (read.present()) {
            if (ns.fresh(read.softExpiry())) {
                metrics.get(read.notFound() ? "negative" : "hit");
                shadow.sample(key, read, loader);
                T value = ns.decode(read);
                if (near != null) {
                    near.completeRead(key, token, new NearCache.Entry(value, read.notFound(), read.softExpiry()));
                }
                if (hotCopies != null && hotKeys.isHot(key)) {
                    hotCopies.put(key, new NearCache.Entry(value, read.notFound(), read.softExpiry()));
                }
                if (refreshEarly(read)) {
                    metrics.earlyRefresh();
                    flights.refreshInBackground(key, loader, read, missedAt);
                }
                return CompletableFuture.completedFuture(value);
            }
            if (policy.consistency() == Policy.Consistency.BOUNDED) {
                metrics.get("miss");
                return flights.loadAndFill(key, loader, read, true, missedAt);
            }
            metrics.get("stale");
            flights.refreshInBackground(key, loader, read, missedAt);
            return CompletableFuture.completedFuture(ns.decode(read));
        }
        metrics.get("miss");
        return flights.loadAndFill(key, loader, read, false, missedAt);
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
        double aheadMillis = -(loads.meanLoadNanos() / 1e6) * policy.earlyRefresh() * Math.log(u);
        return ns.clock().millis() + aheadMillis >= read.softExpiry();
    }

    /** {@link CacheNamespace#lookup}: a hit, or a miss that carries the fence read at it. */
    CacheNamespace.Lookup<T> lookup(String key) {
        hotKeys.record(key); // counted; a lookup reads Redis, never a hot key's untracked copy
        if (near != null) {
            NearCache.Entry cached = near.get(key);
            if (cached != null && ns.fresh(cached.softExpiry())) {
                metrics.get(cached.notFound() ? "negative" : "hit");
                metrics.nearHit();
                @SuppressWarnings("unchecked")
                T value = (T) cached.value();
                return new CacheNamespace.Lookup<>(key, true, value, null, 0);
            }
        }
        long token = near == null ? 0 : near.beginRead(key);
        long missedAt = System.nanoTime();
        CacheRedis.Read read = CacheNamespace.join(key, ns.read(key).handle((r, error) -> {
            if (error != null) {
                LOG.debug("namespace {}: Redis read of a key failed, its value will not be filled: {}", name, error.toString());
                return null;
            }
            return r;
        }));
        if (read == null) {
            metrics.get("error");
            return new CacheNamespace.Lookup<>(key, false, null, null, missedAt);
        }
        if (read.present() && ns.fresh(read.softExpiry())) {
            metrics.get(read.notFound() ? "negative" : "hit");
            T value = ns.decode(read);
            if (near != null) {
                near.completeRead(key, token, new NearCache.Entry(value, read.notFound(), read.softExpiry()));
            }
            return new CacheNamespace.Lookup<>(key, true, value, null, 0);
        }
        metrics.get("miss");
        return new CacheNamespace.Lookup<>(key, false, null, read, missedAt);
    }
}
