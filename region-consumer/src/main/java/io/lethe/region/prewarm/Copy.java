package io.lethe.region.prewarm;

/** An entry read from the source: kind h (versioned) or s (legacy), its TTL then (0: none), and when it was read. */
record Copy(String key, String namespace, String kind, byte[] data, String version, byte[] softExpiry, boolean notFound,
        long ttlMillis, long readAt) {
}
