package io.lethe.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The optional L1: decoded entries in this process (Caffeine), kept coherent by Redis
 * server-assisted client-side caching. Every read that may fill it runs on a connection with
 * {@code CLIENT TRACKING ON}, so when anything (the pipeline's {@code invalidate.lua}) changes
 * or deletes the key, Redis pushes an invalidation and the copy is dropped. A read fills L1 only
 * if no invalidation of its key arrived since the read was sent (a token per read), and the whole
 * L1 is dropped whenever the tracking connection is lost. Size and TTL bound it as a safety net.
 */
final class NearCache {
    /** A cached hit: the decoded value (null for a cached "not found") and its soft expiry. */
    record Entry(Object value, boolean notFound, Long softExpiry) {
    }

    private final Cache<String, Entry> cache;
    private final ConcurrentHashMap<String, Long> reads = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private volatile boolean active;

    NearCache(long maximumSize, Duration ttl) {
        this.cache = Caffeine.newBuilder().maximumSize(maximumSize).expireAfterWrite(ttl).build();
    }

    Entry get(String key) {
        return active ? cache.getIfPresent(key) : null;
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

    /** Tracking is (re)established: L1 may be used. */
    void activate() {
        active = true;
    }

    /** Tracking is lost: invalidations may have been missed, so nothing in L1 can be trusted. */
    void deactivate() {
        active = false;
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
