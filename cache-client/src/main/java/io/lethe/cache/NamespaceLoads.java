package io.lethe.cache;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;

/**
 * A namespace's calls of its loaders: on a loader thread, once the namespace's admission control
 * let them ({@link LoadRejectedException} if not), timed into {@code lethe.cache.loads} and into a
 * decaying mean load time (XFetch's delta, see {@link CacheNamespace}).
 */
final class NamespaceLoads<T> {
    private final LoadAdmission admission;
    private final CacheMetrics metrics;
    private final ExecutorService loaders;
    /** The mean load time of this namespace in this process, in nanoseconds, decaying (XFetch's delta). */
    private volatile double meanLoadNanos;

    NamespaceLoads(String name, Policy policy, CacheMetrics metrics, ExecutorService loaders) {
        this.admission = new LoadAdmission(name, policy.loadLimits());
        this.metrics = metrics;
        this.loaders = loaders;
    }

    /** The decaying mean load time, in nanoseconds (0 before the first load). */
    double meanLoadNanos() {
        return meanLoadNanos;
    }

    /** Calls the loader on a loader thread, once the namespace's admission control let it ({@link LoadRejectedException} if not). */
    CompletableFuture<Loaded<T>> load(String key, Loader<T> loader) {
        long askedAt = System.nanoTime();
        return CompletableFuture.supplyAsync(() -> {
            LoadAdmission.Permit permit = admit(key, askedAt);
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

    /**
     * Calls the bulk loader once for {@code keys} on a loader thread, once admission control let
     * it (one load), and hands each key its result.
     */
    Map<String, CompletableFuture<Loaded<T>>> loadBulk(List<String> keys, BulkLoader<T> loader) {
        long askedAt = System.nanoTime();
        CompletableFuture<Map<String, Loaded<T>>> all = CompletableFuture.supplyAsync(() -> {
            LoadAdmission.Permit permit = admit(keys.size() + " keys", askedAt);
            long t0 = System.nanoTime();
            try {
                Map<String, Loaded<T>> loaded = loader.load(Collections.unmodifiableSet(new LinkedHashSet<>(keys)));
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
        Map<String, CompletableFuture<Loaded<T>>> each = new LinkedHashMap<>();
        for (String key : keys) {
            each.put(key, all.thenApply(map -> {
                Loaded<T> l = map.get(key);
                return l == null ? Loaded.<T>notFound() : l;
            }));
        }
        return each;
    }

    /** One key through a bulk loader (background refreshes and shadow reads of a batch's hits). */
    static <T> Loader<T> single(BulkLoader<T> bulk) {
        return key -> {
            Map<String, Loaded<T>> loaded = bulk.load(Set.of(key));
            Loaded<T> value = loaded == null ? null : loaded.get(key);
            return value == null ? Loaded.notFound() : value;
        };
    }

    private LoadAdmission.Permit admit(String what, long askedAt) {
        try {
            return admission.admit(what, askedAt);
        } catch (LoadRejectedException e) {
            metrics.loadRejected(e.reason());
            throw e;
        }
    }

    /** A load's time: the timer, and the decaying mean XFetch weighs by. */
    private void recordLoad(long nanos) {
        metrics.load(nanos);
        double mean = meanLoadNanos;
        meanLoadNanos = mean == 0 ? nanos : mean * 0.9 + nanos * 0.1;
    }
}
