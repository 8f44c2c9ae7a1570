package io.lethe.cache;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Shadow reads of a namespace: about one hit in {@link Policy#shadowReads()} is handed to the
 * {@link Inspection}, which checks it against the loader off the request path. Off (nothing
 * sampled) when the policy has them off or the namespace is strong (it has no hits).
 */
final class ShadowReads<T> {
    private final NamespaceContext<T> ns;
    /** The inspection, or null when shadow reads are off. */
    private final Inspection inspection;

    ShadowReads(NamespaceContext<T> ns, Inspection inspection) {
        this.ns = ns;
        Policy policy = ns.policy();
        this.inspection = policy.shadowReads() > 0 && policy.consistency() != Policy.Consistency.STRONG ? inspection : null;
    }

    /** Samples the hit {@code read} of {@code key}: returns at once. */
    void sample(String key, CacheRedis.Read read, Loader<T> loader) {
        if (inspection == null || ThreadLocalRandom.current().nextInt(ns.policy().shadowReads()) != 0) {
            return;
        }
        inspection.submit(ns.name(), key, new Inspection.Served(read.data(), read.version(), read.notFound()), ns.codec(), loader,
                ns.policy().fenceTtl(), ns.metrics());
    }
}
