package io.lethe.cache;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Admission control of one namespace's loads ({@link Policy.LoadLimits}): a semaphore bounds the
 * loads running at a time, and starts are spaced {@code 1 s / maxPerSecond} apart (no burst), so
 * any second holds at most {@code maxPerSecond} starts, give or take the one at its edge. A load
 * waits for its turn until {@code maxWait} after it was asked for (time queued for a loader
 * thread counts), then is refused with {@link LoadRejectedException}. It waits on the loader
 * thread that runs it.
 */
final class LoadAdmission {
    /** What an admitted load gives back when it ends. */
    interface Permit {
        void release();
    }

    private static final Permit NOTHING = () -> {
    };

    private final String namespace;
    private final Policy.LoadLimits limits;
    private final Semaphore running;
    private final long intervalNanos;
    private long nextStart = Long.MIN_VALUE;

    LoadAdmission(String namespace, Policy.LoadLimits limits) {
        this.namespace = namespace;
        this.limits = limits;
        this.running = limits.maxConcurrent() > 0 ? new Semaphore(limits.maxConcurrent(), true) : null;
        this.intervalNanos = limits.maxPerSecond() > 0 ? TimeUnit.SECONDS.toNanos(1) / limits.maxPerSecond() : 0;
    }

    /**
     * Waits for this load's turn (blocking the calling loader thread) until {@code askedAt}
     * ({@link System#nanoTime}) plus the limits' wait.
     *
     * @throws LoadRejectedException when its turn would come later than that
     */
    Permit admit(String key, long askedAt) {
        if (limits.unlimited()) {
            return NOTHING;
        }
        long deadline = askedAt + limits.maxWait().toNanos();
        if (running != null) {
            boolean acquired;
            try {
                acquired = running.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CacheLoadException("interrupted while waiting to load " + key, e);
            }
            if (!acquired) {
                throw new LoadRejectedException(namespace, "concurrency", "namespace " + namespace + ": " + limits.maxConcurrent()
                        + " loads running for longer than the " + limits.maxWait().toMillis() + " ms a load may wait; " + key
                        + " not loaded");
            }
        }
        if (intervalNanos > 0) {
            long startAt = reserve(System.nanoTime(), deadline);
            if (startAt == Long.MIN_VALUE) {
                if (running != null) {
                    running.release();
                }
                throw new LoadRejectedException(namespace, "rate", "namespace " + namespace + ": " + limits.maxPerSecond()
                        + " loads per second already started, and the next turn is later than the " + limits.maxWait().toMillis()
                        + " ms a load may wait; " + key + " not loaded");
            }
            for (long left = startAt - System.nanoTime(); left > 0; left = startAt - System.nanoTime()) {
                LockSupport.parkNanos(left);
                if (Thread.interrupted()) {
                    Thread.currentThread().interrupt();
                    if (running != null) {
                        running.release();
                    }
                    throw new CacheLoadException("interrupted while waiting to load " + key);
                }
            }
        }
        return running == null ? NOTHING : running::release;
    }

    /** The start time reserved for a load asked for now, or Long.MIN_VALUE if it would be after {@code deadline}. */
    private synchronized long reserve(long now, long deadline) {
        long at = nextStart == Long.MIN_VALUE || nextStart - now < 0 ? now : nextStart;
        if (at - deadline > 0) {
            return Long.MIN_VALUE;
        }
        nextStart = at + intervalNanos;
        return at;
    }
}
