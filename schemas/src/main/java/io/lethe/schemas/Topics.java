package io.lethe.schemas;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Lethe's topic names. Every name starts with one prefix ({@value #DEFAULT_PREFIX} unless
 * configured), so several deployments or tests can share a broker.
 *
 * @param prefix the common prefix, e.g. {@code lethe}
 */
public record Topics(String prefix) {
    public static final String DEFAULT_PREFIX = "lethe";
    private static final Pattern LEGAL = Pattern.compile("[a-zA-Z0-9._-]+");

    public static final Topics DEFAULT = new Topics(DEFAULT_PREFIX);

    public Topics {
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

    /** The invalidations one region subscribes to, keyed by cache key. */
    public String invalidations(String region) {
        if (!LEGAL.matcher(region).matches()) {
            throw new IllegalArgumentException("region name must match [a-zA-Z0-9._-]+, was '" + region + "'");
        }
        return prefix + ".invalidations." + region;
    }

    /** Events that could not be mapped or applied, with {@link Headers} saying why. */
    public String dlq() {
        return prefix + ".dlq";
    }

    /** Debezium's source offsets (Kafka-backed offset store of cdc-capture). */
    public String captureOffsets() {
        return prefix + ".capture.offsets";
    }
}
