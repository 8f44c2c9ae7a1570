package io.lethe.cache;

import java.time.Clock;

/**
 * What every part of a namespace's read path shares: its name, codec, policy, the Redis side, its
 * meters and the clock. The parts ({@link SingleFlight}, {@link FencedFill}, {@link TokenReads},
 * {@link BatchReads}, {@link ShadowReads}) are built by {@link CacheNamespace} from one of these.
 */
record NamespaceContext<T>(String name, Codec<T> codec, Policy policy, CacheRedis redis, CacheMetrics metrics, Clock clock) {

    /** A present read's value: null when cached as not found. */
    T decode(CacheRedis.Read read) {
        return read.notFound() ? null : codec.decode(read.data());
    }

    /** Whether an entry with this soft expiry (null: none) may be served as a hit now. */
    boolean fresh(Long softExpiry) {
        return softExpiry == null || clock.millis() < softExpiry;
    }
}
