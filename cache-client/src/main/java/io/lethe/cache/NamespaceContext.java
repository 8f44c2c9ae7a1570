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
     * region's record of them, in one round trip. Every read whose result may be filled goes through here. An
     * entry under holds other than this reader's ({@link #otherHolds}) reads as absent: not served (as a hit, a
     * stale value, a near-cache or hot-key copy), loaded, and its fill refused.
     */
    java.util.concurrent.CompletableFuture<CacheRedis.Read> read(String key) {
        return redis.read(key, name, holds != null).thenApply(r -> r != null && r.present() && otherHolds(r.holds())
                ? new CacheRedis.Read(null, null, null, false, r.legacy(), r.fenceCounter(), r.epoch(), r.holds())
                : r);
    }

    /** A present read's value: null when cached as not found. */
    T decode(CacheRedis.Read read) {
        return read.notFound() ? null : codec.decode(read.data());
    }

    /** Whether an entry with this soft expiry (null: none) may be served as a hit now. */
    boolean fresh(Long softExpiry) {
        return softExpiry == null || clock.millis() < softExpiry;
    }

    /**
     * True when this reader declared its holds and {@code recorded} (the region's record, null: none) is another:
     * an entry present is not served (it was filled, or upserted, under what the region records, not what this
     * reader reads: another table's row, another payload, another key's row), and a fill is refused.
     */
    boolean otherHolds(String recorded) {
        return holds != null && recorded != null && !recorded.equals(holds);
    }
}
