package io.lethe.cache;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One load per key at a time: in this process (concurrent misses share the running load and its
 * fill; a background refresh runs once per key), and, with a fill lock ({@link Policy#withFillLock}),
 * across processes (the others poll until the holder's fill lands, then read it).
 */
final class SingleFlight<T> {
    /** Logs under {@link CacheNamespace}'s name, as the namespace's read path always has. */
    private static final Logger LOG = LoggerFactory.getLogger(CacheNamespace.class);
    private static final Duration LOCK_POLL = Duration.ofMillis(10);

    private final NamespaceContext<T> ns;
    private final NamespaceLoads<T> loads;
    private final FencedFill<T> fills;
    private final ConcurrentHashMap<String, CompletableFuture<T>> inflight = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> refreshing = new ConcurrentHashMap<>();

    SingleFlight(NamespaceContext<T> ns, NamespaceLoads<T> loads, FencedFill<T> fills) {
        this.ns = ns;
        this.loads = loads;
        this.fills = fills;
    }

    /** A failed stage's own exception, not the {@link CompletionException} around it. */
    static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }

    /** A miss's load and fill, shared by the concurrent misses of {@code key} in this process. */
    CompletableFuture<T> loadAndFill(String key, Loader<T> loader, CacheRedis.Read miss, boolean replace, long missedAt) {
        return run(key, () -> lockedLoadAndFill(key, loader, miss, replace, missedAt));
    }

    /**
     * Runs {@code work} unless a load of {@code key} is running in this process already (a miss's
     * load and fill, or an outage's uncached load): then its result is shared.
     */
    CompletableFuture<T> run(String key, Supplier<CompletableFuture<T>> work) {
        CompletableFuture<T> mine = new CompletableFuture<>();
        CompletableFuture<T> running = inflight.putIfAbsent(key, mine);
        if (running != null) {
            return running;
        }
        settle(key, mine, work.get());
        return mine;
    }

    /** The running load of {@code key} in this process, or a new promise of this batch's (added to {@code mine}). */
    CompletableFuture<T> claim(String key, Map<String, CompletableFuture<T>> mine) {
        CompletableFuture<T> promise = new CompletableFuture<>();
        CompletableFuture<T> running = inflight.putIfAbsent(key, promise);
        if (running != null) {
            return running;
        }
        mine.put(key, promise);
        return promise;
    }

    /** Completes a claimed {@code promise} of {@code key} with {@code value}'s outcome, and releases the key. */
    void settle(String key, CompletableFuture<T> promise, CompletableFuture<T> value) {
        value.whenComplete((v, error) -> {
            inflight.remove(key, promise);
            if (error != null) {
                promise.completeExceptionally(unwrap(error));
            } else {
                promise.complete(v);
            }
        });
    }

    /**
     * At most one background refresh per key at a time in this process. A read that saw the stale
     * entry just before a refresh landed may start one more once it has finished: that load is
     * as fresh as the first, and its fill replaces the entry only if nothing invalidated the key
     * since that read (the fence counter).
     */
    void refreshInBackground(String key, Loader<T> loader, CacheRedis.Read miss, long missedAt) {
        if (refreshing.putIfAbsent(key, Boolean.TRUE) != null) {
            return;
        }
        lockedLoadAndFill(key, loader, miss, true, missedAt).whenComplete((v, e) -> {
            refreshing.remove(key);
            if (e != null) {
                LOG.debug("namespace {}: background refresh failed: {}", ns.name(), e.toString());
            }
        });
    }

    private CompletableFuture<T> lockedLoadAndFill(String key, Loader<T> loader, CacheRedis.Read miss, boolean replace, long missedAt) {
        Policy policy = ns.policy();
        CacheRedis redis = ns.redis();
        // no lock while the region records other holds than this reader's: every fill is refused, so waiting for
        // another process's fill would only wait out the lease
        if (policy.fillLock().isZero() || ns.otherHolds(miss.holds())) {
            return loads.load(key, loader).thenCompose(loaded -> fills.fill(key, loaded, miss, replace, missedAt));
        }
        String token = UUID.randomUUID().toString();
        return redis.tryLock(key, token, policy.fillLock()).exceptionally(e -> true).thenCompose(acquired -> {
            if (acquired) {
                return loads.load(key, loader).thenCompose(loaded -> fills.fill(key, loaded, miss, replace, missedAt))
                        .whenComplete((v, e) -> redis.unlock(key, token));
            }
            long deadline = System.nanoTime() + policy.fillLock().toNanos();
            return awaitOtherFill(key, deadline).thenCompose(filled -> filled.isPresent()
                    ? CompletableFuture.completedFuture(filled.get().orElse(null))
                    : loads.load(key, loader).thenCompose(loaded -> fills.fill(key, loaded, miss, replace, missedAt)));
        });
    }

    /**
     * Polls until another process filled the key (its value, maybe null for not-found), the
     * deadline passed or Redis failed (its breaker opened): then empty, and this process loads.
     */
    private CompletableFuture<Optional<Optional<T>>> awaitOtherFill(String key, long deadline) {
        return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(LOCK_POLL.toMillis(), TimeUnit.MILLISECONDS))
                .thenCompose(x -> ns.read(key).handle((read, error) -> error == null ? read : null))
                .thenCompose(read -> {
                    if (read == null) {
                        return CompletableFuture.completedFuture(Optional.empty()); // Redis failed: load it here
                    }
                    if (read.present()) {
                        return CompletableFuture.completedFuture(Optional.of(Optional.ofNullable(ns.decode(read))));
                    }
                    if (System.nanoTime() > deadline) {
                        return CompletableFuture.completedFuture(Optional.empty());
                    }
                    return awaitOtherFill(key, deadline);
                });
    }
}
