package io.lethe.schemas;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Lethe's topic names. Every name starts with one prefix ({@value #DEFAULT_PREFIX} unless
 * configured), so several deployments or tests can share a broker.
 *
 * <p>An invalidation is written once per distinct set of region subscriptions that needs it:
 * regions that subscribe to the same namespaces read one topic, and a region that subscribes to
 * every namespace reads the public topic itself ({@code regionTopics} says which region reads
 * which, as {@code LetheConfig.topics()} decides: by subscription set; a region it does not name
 * has {@code <prefix>.invalidations.<region>}, the name regions' topics had before 2026-12-07,
 * kept for Topics built without a configuration, as in tests).
 *
 * @param prefix       the common prefix, e.g. {@code lethe}
 * @param regionTopics the topic each region reads, when it is not its own
 */
public record Topics(String prefix, java.util.Map<String, String> regionTopics) {
    public static final String DEFAULT_PREFIX = "lethe";
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");

    public static final Topics DEFAULT = new Topics(DEFAULT_PREFIX);

    public Topics(String prefix) {
        this(prefix, java.util.Map.of());
    }

    public Topics {
        regionTopics = java.util.Map.copyOf(regionTopics);
        Objects.requireNonNull(prefix, "prefix");
        if (!LEGAL.matcher(prefix).matches()) {
            throw new IllegalArgumentException("topic prefix must match [a-zA-Z0-9._-]+, was '" + prefix + "'");
        }
    }

    /** Row changes from capture, keyed by {@code <schema>.<table>:<pk>}. */
    public String changes() {
        return prefix + ".changes";
    }

    /** Every invalidation for every region: the public topic other teams subscribe to. */
    public String invalidations() {
        return prefix + ".invalidations";
    }

    /**
     * The topic one region reads, keyed by cache key: the invalidations of the namespaces it
     * subscribes to (shared with the regions that subscribe to the same ones; the public topic
     * for a region that subscribes to every namespace).
     */
    public String invalidations(String region) {
        if (!LEGAL.matcher(region).matches()) {
            throw new IllegalArgumentException("region name must match [a-zA-Z0-9._-]+, was '" + region + "'");
        }
        return regionTopics.getOrDefault(region, prefix + ".invalidations." + region);
    }

    /**
     * Manual purges requested by applications and {@code lethe invalidate}, keyed by cache key (a
     * pattern: by the pattern): invalidation-streams validates each, signs it and routes it to the
     * region topics and the public topic as its own configuration routes the namespace, so a
     * publisher on another configuration than the regions cannot send a purge where no region reads.
     * Not under {@code <prefix>.invalidations.}: a region may be named {@code requests}.
     */
    public String invalidationRequests() {
        return prefix + ".invalidation-requests";
    }

    /** Events that could not be mapped or applied, with {@link Headers} saying why. */
    public String dlq() {
        return prefix + ".dlq";
    }

    /**
     * Debezium's source offsets (Kafka-backed offset store of cdc-capture); in {@code source.mode:
     * debezium-topics}, which runs no Debezium of its own, the translator's table watch state.
     */
    public String captureOffsets() {
        return prefix + ".capture.offsets";
    }
}
