package io.lethe.cache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batch reads of a namespace ({@link CacheNamespace#getAll}): hits from the near cache, then every
 * other key's Redis read sent before any reply is awaited (one round trip per node), the misses
 * loaded in one call of the bulk loader (one load for admission control), each filled under its
 * own fence. Misses of keys another read of this process is loading join that load.
 */
final class BatchReads<T> {
    /** Logs under {@link CacheNamespace}'s name, as the namespace's read path always has. */
    private static final Logger LOG = LoggerFactory.getLogger(CacheNamespace.class);

    private final NamespaceContext<T> ns;
    /** The near cache, or null. */
    private final NearCache near;
    private final HotKeys hotKeys;
    private final NamespaceLoads<T> loads;
    private final SingleFlight<T> flights;
    private final FencedFill<T> fills;
    private final ShadowReads<T> shadow;

    BatchReads(NamespaceContext<T> ns, NearCache near, HotKeys hotKeys, NamespaceLoads<T> loads, SingleFlight<T> flights,
            FencedFill<T> fills, ShadowReads<T> shadow) {
        this.ns = ns;
        this.near = near;
        this.hotKeys = hotKeys;
        this.loads = loads;
        this.flights = flights;
        this.fills = fills;
        this.shadow = shadow;
    }

    /** The found values of {@code keys}, in their order. */
    CompletableFuture<Map<String, T>> read(Collection<String> keys, BulkLoader<T> loader) {
        Policy policy = ns.policy();
        CacheMetrics metrics = ns.metrics();
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(keys));
        Map<String, CompletableFuture<T>> values = new LinkedHashMap<>();
        if (policy.consistency() == Policy.Consistency.STRONG) {
            distinct.forEach(k -> metrics.get("bypass"));
            Map<String, CompletableFuture<Loaded<T>>> loaded = loads.loadBulk(distinct, loader);
            distinct.forEach(k -> values.put(k, loaded.get(k).thenApply(Loaded::value)));
            return collect(values);
        }
        Map<String, Long> nearTokens = new HashMap<>();
        Map<String, CompletableFuture<CacheRedis.Read>> reads = new LinkedHashMap<>();
        for (String key : distinct) {
            hotKeys.record(key); // counted; a batch reads Redis, never a hot key's untracked copy
            NearCache.Entry cached = near == null ? null : near.get(key);
            if (cached != null && ns.fresh(cached.softExpiry())) {
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
        nearTokens.keySet().forEach(key -> reads.put(key, ns.read(key).handle((read, error) -> {
            if (error != null) {
                LOG.debug("namespace {}: Redis read of a key failed, loading uncached: {}", ns.name(), error.toString());
                return null;
            }
            return read;
        })));
        return CompletableFuture.allOf(reads.values().toArray(CompletableFuture[]::new))
                .thenCompose(x -> afterReads(loader, reads, nearTokens, values, missedAt));
    }

    private CompletableFuture<Map<String, T>> afterReads(BulkLoader<T> loader, Map<String, CompletableFuture<CacheRedis.Read>> reads,
            Map<String, Long> nearTokens, Map<String, CompletableFuture<T>> values, long missedAt) {
        Policy policy = ns.policy();
        CacheMetrics metrics = ns.metrics();
        Loader<T> one = NamespaceLoads.single(loader);
        Map<String, CacheRedis.Read> misses = new LinkedHashMap<>();
        Map<String, Boolean> replace = new HashMap<>();
        List<String> uncached = new ArrayList<>();
        reads.forEach((key, future) -> {
            CacheRedis.Read read = future.join();
            if (read == null) {
                metrics.get("error");
                NearCache.Entry kept = near != null && !policy.staleOnOutage().isZero() ? near.getStale(key, policy.staleOnOutage()) : null;
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
            boolean soft = read.present() && !ns.fresh(read.softExpiry());
            if (read.present() && !soft) {
                metrics.get(read.notFound() ? "negative" : "hit");
                shadow.sample(key, read, one);
                T value = ns.decode(read);
                if (near != null) {
                    near.completeRead(key, nearTokens.get(key), new NearCache.Entry(value, read.notFound(), read.softExpiry()));
                }
                values.put(key, CompletableFuture.completedFuture(value));
            } else if (read.present() && policy.consistency() != Policy.Consistency.BOUNDED) {
                metrics.get("stale");
                flights.refreshInBackground(key, one, read, missedAt);
                values.put(key, CompletableFuture.completedFuture(ns.decode(read)));
            } else {
                metrics.get("miss");
                misses.put(key, read);
                replace.put(key, read.present());
            }
        });
        // single-flight: a key some read of this process is loading already joins that load
        Map<String, CompletableFuture<T>> mine = new LinkedHashMap<>();
        for (String key : misses.keySet()) {
            values.put(key, flights.claim(key, mine));
        }
        for (String key : uncached) {
            values.put(key, flights.claim(key, mine));
        }
        if (!mine.isEmpty()) {
            Map<String, CompletableFuture<Loaded<T>>> loaded = loads.loadBulk(new ArrayList<>(mine.keySet()), loader);
            mine.forEach((key, promise) -> {
                CacheRedis.Read miss = misses.get(key);
                CompletableFuture<T> value = miss == null
                        ? loaded.get(key).thenApply(Loaded::value)
                        : loaded.get(key).thenCompose(l -> fills.fill(key, l, miss, replace.get(key), missedAt));
                flights.settle(key, promise, value);
            });
        }
        return collect(values);
    }

    /** The found values, in order, once every one is in. */
    private static <T> CompletableFuture<Map<String, T>> collect(Map<String, CompletableFuture<T>> values) {
        return CompletableFuture.allOf(values.values().toArray(CompletableFuture[]::new)).thenApply(x -> {
            Map<String, T> found = new LinkedHashMap<>();
            values.forEach((key, value) -> {
                T v = value.join();
                if (v != null) {
                    found.put(key, v);
                }
            });
            return found;
        });
    }
}
