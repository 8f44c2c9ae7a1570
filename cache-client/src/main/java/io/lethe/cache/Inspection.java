package io.lethe.cache;

import io.lethe.schemas.redis.RedisLayout;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Shadow reads, off the request path: a sampled hit's key is loaded again with the
 * application's own loader and compared (the codec's {@link Codec#same}, and the version when
 * both sides know it) with what was served. A difference is expected while a change is in
 * flight, so it is checked again after a grace (the region's measured lag, from its applied
 * watermark, plus a margin; at most {@code maxGrace}): a difference that survives is a
 * confirmed stale entry, counted, logged (coordinates, never values), healed with invalidate.lua
 * at the served version, and recorded in {@link RedisLayout#AUDIT_STALE_STREAM}.
 *
 * <p>Bounded: at most {@code concurrency} inspections at a time (each including its grace) and
 * {@code maxPerSecond} started per second; a sample over either is counted as {@code dropped},
 * never queued.
 */
final class Inspection implements AutoCloseable {

    /** The inspection's bounds: see {@link LetheCache.Builder#shadowReadLimits}. */
    record Limits(int concurrency, int maxPerSecond, Duration margin, Duration maxGrace) {
        static final Limits DEFAULT = new Limits(2, 20, Duration.ofSeconds(2), Duration.ofSeconds(60));

        Limits {
            if (concurrency < 1 || maxPerSecond < 1) {
                throw new IllegalArgumentException("shadow read limits need concurrency >= 1 and maxPerSecond >= 1, were "
                        + concurrency + " and " + maxPerSecond);
            }
            if (margin == null || margin.isNegative() || maxGrace == null || maxGrace.isNegative()) {
                throw new IllegalArgumentException("shadow read margin and maxGrace must be zero or positive, were " + margin
                        + " and " + maxGrace);
            }
        }
    }

    /** What a sampled hit served. */
    record Served(byte[] data, String version, boolean notFound) {
    }

    final CacheRedis redis;
    final Limits limits;
    final boolean heal;
    final Clock clock;
    /** The region's applied-watermark key, or null: the grace is then the longest, maxGrace plus the margin. */
    final String appliedLsnKey;
    private final Semaphore running;
    private final AtomicInteger pending = new AtomicInteger();
    final ScheduledThreadPoolExecutor executor;
    private final Object bucketLock = new Object();
    private double tokens;
    private long refilledAt = System.nanoTime();

    Inspection(CacheRedis redis, Limits limits, boolean heal, Clock clock, String appliedLsnKey) {
        this.redis = redis;
        this.limits = limits;
        this.heal = heal;
        this.clock = clock;
        this.appliedLsnKey = appliedLsnKey;
        this.running = new Semaphore(limits.concurrency());
        this.tokens = limits.maxPerSecond();
        this.executor = new ScheduledThreadPoolExecutor(limits.concurrency(), DaemonThreads.named("lethe-cache-inspection"));
        executor.setRemoveOnCancelPolicy(true);
    }

    /** Inspections accepted and not finished (tests wait for 0). */
    int pending() {
        return pending.get();
    }

    /**
     * Hands a sampled hit over; returns at once. Over the limits the sample is counted as
     * {@code dropped}. The caller's request never waits on anything this does.
     */
    <T> void submit(String namespace, String key, Served served, Codec<T> codec, Loader<T> loader, Duration fenceTtl,
            CacheMetrics metrics) {
        if (!takeToken() || !running.tryAcquire()) {
            metrics.check("dropped");
            return;
        }
        pending.incrementAndGet();
        ShadowCheck<T> check = new ShadowCheck<>(this, namespace, key, served, codec, loader, fenceTtl, metrics);
        try {
            executor.execute(check::first);
        } catch (RuntimeException e) { // closed
            check.finish("dropped");
        }
    }

    private boolean takeToken() {
        synchronized (bucketLock) {
            long now = System.nanoTime();
            tokens = Math.min(limits.maxPerSecond(), tokens + (now - refilledAt) / 1e9 * limits.maxPerSecond());
            refilledAt = now;
            if (tokens < 1) {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }

    /** An inspection ended, whatever its result. */
    void done() {
        pending.decrementAndGet();
        running.release();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

}
