package io.lethe.cache;

import io.lethe.schemas.redis.FillResult;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fill protocol of a namespace: a loaded value written under the fence read at its miss
 * ({@code fill.lua}), under a lease first and given its TTL once the namespace epoch is confirmed
 * unchanged since the miss; undone (with backoff, for up to a fence TTL) when a pattern or
 * namespace-wide invalidation may have passed the key meanwhile. See docs/subscribing.md.
 */
final class FencedFill<T> {
    /** Logs under {@link CacheNamespace}'s name, as the namespace's read path always has. */
    private static final Logger LOG = LoggerFactory.getLogger(CacheNamespace.class);
    private static final Duration UNDO_BACKOFF_MIN = Duration.ofMillis(50);
    private static final Duration UNDO_BACKOFF_MAX = Duration.ofSeconds(1);

    private final NamespaceContext<T> ns;
    private final Policy policy;
    private final CacheRedis redis;
    private final CacheMetrics metrics;

    FencedFill(NamespaceContext<T> ns) {
        this.ns = ns;
        this.policy = ns.policy();
        this.redis = ns.redis();
        this.metrics = ns.metrics();
    }

    /**
     * Fills {@code loaded} under the fence of {@code miss} (replacing a present entry when
     * {@code replace}); the loaded value is returned whether the fill was accepted, refused or failed.
     */
    CompletableFuture<T> fill(String key, Loaded<T> loaded, CacheRedis.Read miss, boolean replace, long missedAt) {
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
            soft = ns.clock().millis() + policy.maxAge().toMillis();
        } else if (!policy.softTtl().isZero()) {
            soft = ns.clock().millis() + policy.softTtl().toMillis();
        }
        byte[] payload = loaded.found() ? ns.codec().encode(loaded.value()) : new byte[0];
        String version = loaded.version() == null ? "0" : loaded.version();
        // written under a lease, given its TTL only once the epoch is confirmed: a process that
        // dies in between leaves nothing unchecked beyond the lease
        boolean leased = ttlMillis == 0 || ttlMillis > CacheRedis.FILL_LEASE_MILLIS;
        long writeTtl = leased ? CacheRedis.FILL_LEASE_MILLIS : ttlMillis;
        return redis.fill(key, version, miss.fenceCounter(), payload, writeTtl, soft, replace, !loaded.found())
                .handle((FillResult result, Throwable error) -> {
                    if (error != null) {
                        LOG.debug("namespace {}: fill failed, value served uncached: {}", ns.name(), error.toString());
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
        return redis.epoch(ns.name()).handle((now, error) -> error == null && now.equals(epochAtMiss)).thenCompose(confirmed -> confirmed
                ? CompletableFuture.completedFuture(true)
                : undo(key, version, System.nanoTime() + policy.fenceTtl().toNanos(), UNDO_BACKOFF_MIN).thenApply(x -> false));
    }

    /** Gives a confirmed fill its real TTL; if that fails, the lease ends it (a miss later, never a stale value). */
    private CompletableFuture<Void> endLease(String key, String version, byte[] payload, long ttlMillis) {
        return redis.confirm(key, version, payload, ttlMillis).handle((r, error) -> {
            if (error != null) {
                LOG.debug("namespace {}: a fill's TTL could not be set, it ends with its lease: {}", ns.name(), error.toString());
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
                    + "it stays until its TTL", ns.name(), error.toString());
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
