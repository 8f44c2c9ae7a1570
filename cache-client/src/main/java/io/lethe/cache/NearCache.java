package io.lethe.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The optional L1: decoded entries in this process (Caffeine), kept coherent by Redis
 * server-assisted client-side caching. Every read that may fill it runs on a connection with
 * {@code CLIENT TRACKING ON}, so when anything (the pipeline's {@code invalidate.lua}) changes
 * or deletes the key, Redis pushes an invalidation and the copy is dropped. A read fills L1 only
 * if no invalidation of its key arrived since the read was sent (a token per read). Size and TTL
 * bound it as a safety net.
 *
 * <p>When Redis is down (the tracking connection lost, or the circuit breaker open) the L1 is
 * <em>suspended</em>: nothing is served from it as a hit, and its copies, coherent up to the
 * moment Redis last answered, are kept only for namespaces that serve stale data during an
 * outage ({@link #getStale}, bounded by their {@link Policy#staleOnOutage}). When tracking is
 * back, everything kept is dropped (invalidations may have been missed) before it is used again.
 */
final class NearCache {
    /** A cached hit: the decoded value (null for a cached "not found") and its soft expiry. */
    record Entry(Object value, boolean notFound, Long softExpiry) {
    }

    private final Cache<String, Entry> cache;
    private final ConcurrentHashMap<String, Long> reads = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private final Clock clock;
    private volatile boolean active;
    /** While suspended: the clock time up to which the copies were coherent; else -1. */
    private volatile long suspendedSince = -1;

    NearCache(long maximumSize, Duration ttl, Clock clock) {
        this.cache = Caffeine.newBuilder().maximumSize(maximumSize).expireAfterWrite(ttl).build();
        this.clock = clock;
    }

    Entry get(String key) {
        return active ? cache.getIfPresent(key) : null;
    }

    /**
     * While suspended, the copy of {@code key} if Redis answered less than {@code maxStale} ago
     * (the copy was coherent then); else null. Never while active: then {@link #get} answers.
     */
    Entry getStale(String key, Duration maxStale) {
        long since = suspendedSince;
        if (active || since < 0 || clock.millis() - since > maxStale.toMillis()) {
            return null;
        }
        return cache.getIfPresent(key);
    }

    /** Call before sending a read whose result may fill L1. */
    long beginRead(String key) {
        long token = tokens.incrementAndGet();
        reads.put(key, token);
        return token;
    }

    /** Keeps the read's result unless an invalidation (or a newer read) came in between. */
    void completeRead(String key, long token, Entry entry) {
        if (active && reads.remove(key, token)) {
            cache.put(key, entry);
        }
    }

    void invalidate(Collection<String> keys) {
        for (String key : keys) {
            reads.remove(key);
            cache.invalidate(key);
        }
    }

    /**
     * Tracking is (re)established on a Redis that answers: L1 may be used. Copies kept through a
     * suspension are dropped first, and so are the reads sent before this (they may not be tracked).
     */
    synchronized void activate() {
        reads.clear();
        if (!active) {
            cache.invalidateAll();
        }
        suspendedSince = -1;
        active = true;
    }

    /**
     * Redis is down (connection lost, or the breaker opened) and was last known to answer at
     * {@code coherentUntilMillis}: stop serving hits, keep the copies for stale serving.
     */
    synchronized void suspend(long coherentUntilMillis) {
        if (active) {
            active = false;
            suspendedSince = coherentUntilMillis;
            reads.clear();
        }
    }

    /** Invalidations were lost for sure (FLUSHALL, a dropped tracking table): nothing in L1 can be trusted or kept. */
    synchronized void deactivate() {
        active = false;
        suspendedSince = -1;
        reads.clear();
        cache.invalidateAll();
    }

    boolean isActive() {
        return active;
    }

    long size() {
        return cache.estimatedSize();
    }
}
