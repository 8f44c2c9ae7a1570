package io.lethe.region.inspect;

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
