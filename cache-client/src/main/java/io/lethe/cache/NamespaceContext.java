package io.lethe.cache;

import java.time.Clock;

/**
 * What every part of a namespace's read path shares: its name, codec, policy, the Redis side, its
 * meters and the clock, and what the reader declared its entries hold ({@code holds}, rendered by
 * {@code RedisLayout.holds}; null: not declared, fills are not checked against the region's record).
 * The parts ({@link SingleFlight}, {@link FencedFill}, {@link TokenReads}, {@link BatchReads},
 * {@link ShadowReads}) are built by {@link CacheNamespace} from one of these.
 */
record NamespaceContext<T>(String name, String holds, Codec<T> codec, Policy policy, CacheRedis redis, CacheMetrics metrics,
        Clock clock) {

    /**
     * The miss read of {@code key}: entry, fence counter, epoch and, when this reader declared its holds, the
     * region's record of them, in one round trip. Every read whose result may be filled goes through here.
     */
    java.util.concurrent.CompletableFuture<CacheRedis.Read> read(String key) {
        return redis.read(key, name, holds != null);
    }

    /** A present read's value: null when cached as not found. */
    T decode(CacheRedis.Read read) {
        return read.notFound() ? null : codec.decode(read.data());
    }

    /** Whether an entry with this soft expiry (null: none) may be served as a hit now. */
    boolean fresh(Long softExpiry) {
        return softExpiry == null || clock.millis() < softExpiry;
    }
}
