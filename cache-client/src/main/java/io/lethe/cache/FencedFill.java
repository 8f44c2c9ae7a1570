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
 *
 * <p>A namespace declared with what its entries hold ({@link LetheCache#namespace(String, Codec, Policy, java.util.List)})
 * is also checked against the region's record of it ({@code lethe:holds:<namespace>}): a reader on another
 * configuration of the namespace than the region's (another table, version source, mode or payload) would fill
 * entries the region's invalidations never reach, or judge by other rules (an entry filled at an LSN is never
 * removed by a column's versions). So a fill is not written when the miss read other holds than the reader's, and
 * an accepted fill is undone when the confirmation (the epoch read, with the holds after it) reads other holds.
 * The region writes the holds before the wholesale invalidation that a change of them brings, which moves the
 * epoch before it scans: a fill whose miss read the old holds either read the old epoch too (on one connection
 * the epoch is read first) and is undone by the confirmation, or is confirmed before the new holds were written
 * (the confirmation reads them), so it landed before the scan that removes it. A miss after the write is
 * refused. No record (a region of an older version, or one that never ran): allowed, because readers roll out
 * first (docs/subscribing.md) and a region of this version writes it before its first wholesale invalidation.
 * Both refusals are counted as {@code lethe.cache.fills{result=refused-holds}} and logged at WARN once per
 * recorded text; the loaded value is returned either way.
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
    /** The recorded holds last warned about (one WARN per text, not per fill). */
    private final java.util.concurrent.atomic.AtomicReference<String> warnedHolds = new java.util.concurrent.atomic.AtomicReference<>();

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
        if (otherHolds(miss.holds())) {
            metrics.fillRefusedHolds();
            return CompletableFuture.completedFuture(loaded.value());
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
                            .thenCompose(confirmed -> confirmed == Confirmed.KEPT && leased
                                    ? endLease(key, version, payload, ttlMillis).thenApply(x -> confirmed)
                                    : CompletableFuture.completedFuture(confirmed))
                            .thenApply(confirmed -> {
                                if (confirmed == Confirmed.OTHER_HOLDS) {
                                    metrics.fillRefusedHolds();
                                } else {
                                    result.ifPresent(r -> metrics.fill(confirmed == Confirmed.KEPT));
                                }
                                return loaded.value();
                            });
                });
    }

    /** How an accepted fill's confirmation ended. */
    private enum Confirmed {
        KEPT, UNDONE, OTHER_HOLDS
    }

    /**
     * After an accepted fill: if a pattern or namespace-wide invalidation started since the miss
     * (the namespace epoch moved), its scan may have passed this key before the fill landed, so
     * the fill is undone. An epoch that cannot be read confirms nothing: the fill is undone too.
     * So is a fill of a declared namespace when the region's Redis records other holds now (see the class comment).
     */
    private CompletableFuture<Confirmed> confirmEpoch(String key, String version, String epochAtMiss) {
        return redis.marks(ns.name(), ns.holds() != null).handle((now, error) -> {
            if (error != null || !now.epoch().equals(epochAtMiss)) {
                return Confirmed.UNDONE;
            }
            return otherHolds(now.holds()) ? Confirmed.OTHER_HOLDS : Confirmed.KEPT;
        }).thenCompose(confirmed -> confirmed == Confirmed.KEPT
                ? CompletableFuture.completedFuture(confirmed)
                : undo(key, version, System.nanoTime() + policy.fenceTtl().toNanos(), UNDO_BACKOFF_MIN).thenApply(x -> confirmed));
    }

    /**
     * True when this reader declared its holds and the region's Redis records others ({@code recorded}, null: none
     * recorded, allowed). Logged at WARN once per recorded text.
     */
    private boolean otherHolds(String recorded) {
        if (!ns.otherHolds(recorded)) {
            return false;
        }
        if (!recorded.equals(warnedHolds.getAndSet(recorded))) {
            LOG.warn("namespace {}: fills refused: the region's Redis records that its entries hold '{}' ({}), this reader's "
                    + "configuration says '{}'. The region and this reader run different configurations of the namespace "
                    + "(table, version source, mode, payload or keys): roll the same lethe.yml out to the readers and then the region "
                    + "(docs/subscribing.md, rolling out a configuration); until they agree, reads load from the database and "
                    + "nothing is cached", ns.name(), recorded, io.lethe.schemas.redis.RedisLayout.holdsKey(ns.name()), ns.holds());
        }
        return true;
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
