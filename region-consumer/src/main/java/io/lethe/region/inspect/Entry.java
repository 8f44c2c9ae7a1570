package io.lethe.region.inspect;

import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.KeyValue;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One cache key as the region's Redis holds it, with its fence.
 *
 * @param kind        {@code hash} (a versioned entry), {@code string} (a legacy entry), another
 *                    Redis type, or {@code none} when the key is gone
 * @param version     the entry's {@code v} ("0" for a legacy entry or when absent)
 * @param data        the entry's {@code d}, as UTF-8 text (null when absent)
 * @param notFound    {@code nf = 1}: a cached "not found"
 * @param fenceVersion the fence's {@code v}, or null when the key has no fence or one marked {@code x}
 *                     (a namespace-wide delete, a derived key: its version is not compared with the entry's)
 */
record Entry(String key, String kind, String version, String data, boolean notFound, String fenceVersion) {

    /** The key as Redis holds it now, with its fence's version. */
    static Entry read(RegionRedis redis, String key) {
        String kind = redis.keyCommands().type(key);
        List<KeyValue<String, String>> fenceFields = redis.hashCommands().hmget(RedisLayout.fenceKey(key), RedisLayout.FENCE_VERSION,
                RedisLayout.FENCE_FORCED);
        // a fence marked x (a namespace-wide delete, a derived key: version 2^64-1 or one that means nothing for this key) is
        // not compared with the entry's version: fill.lua accepts a fill after it when the counter did not move since the
        // miss, so an entry below it is no sign of a write after the invalidation (judged by its row alone)
        boolean forced = fenceFields.size() > 1 && fenceFields.get(1).hasValue();
        String fence = forced || fenceFields.isEmpty() || !fenceFields.get(0).hasValue() ? null : fenceFields.get(0).getValue();
        if (!"hash".equals(kind)) {
            return new Entry(key, kind, "0", null, false, fence);
        }
        Map<String, String> f = new LinkedHashMap<>();
        for (KeyValue<String, String> kv : redis.hashCommands().hmget(key, RedisLayout.ENTRY_VERSION, RedisLayout.ENTRY_DATA,
                RedisLayout.ENTRY_NOT_FOUND)) {
            if (kv.hasValue()) {
                f.put(kv.getKey(), kv.getValue());
            }
        }
        return new Entry(key, kind, f.getOrDefault(RedisLayout.ENTRY_VERSION, "0"), f.get(RedisLayout.ENTRY_DATA),
                "1".equals(f.get(RedisLayout.ENTRY_NOT_FOUND)), fence);
    }

    boolean gone() {
        return "none".equals(kind);
    }

    boolean versioned() {
        return "hash".equals(kind) && data != null;
    }

    boolean legacy() {
        return "string".equals(kind);
    }

    /** The same value as {@code other}: unchanged between two reads (its fence may have moved). */
    boolean sameValue(Entry other) {
        return kind.equals(other.kind) && version.equals(other.version) && Objects.equals(data, other.data)
                && notFound == other.notFound;
    }
}
