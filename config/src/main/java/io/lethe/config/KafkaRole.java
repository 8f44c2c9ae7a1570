package io.lethe.config;

import java.util.Objects;

/**
 * Who a Kafka client works for. Each role may authenticate as its own principal
 * ({@code kafka.roles.<capture|streams|cli|app>}, {@code regions.<name>.kafka}), so each can be granted
 * only the ACLs it uses (docs/runbook.md, "Least privilege").
 *
 * @param name   {@code capture}, {@code streams}, {@code cli}, {@code app} or {@code region}
 * @param region the region, for {@code region}; null otherwise
 */
public record KafkaRole(String name, String region) {
    /** cdc-capture: produces changes, keeps its offsets. */
    public static final KafkaRole CAPTURE = new KafkaRole("capture", null);
    /** invalidation-streams: reads changes and manual purge requests, produces invalidations and dead letters. */
    public static final KafkaRole STREAMS = new KafkaRole("streams", null);
    /** the {@code lethe} command: doctor, lag, invalidate, dlq (and the dev tools). */
    public static final KafkaRole CLI = new KafkaRole("cli", null);
    /**
     * An application purging keys through cache-client's {@code Invalidations} (Spring's
     * {@code @CacheEvict}): writes purge requests only ({@code <prefix>.invalidation-requests}, which
     * streams judges and routes), never an invalidation topic, changes or the DLQ.
     */
    public static final KafkaRole APP = new KafkaRole("app", null);

    public KafkaRole {
        Objects.requireNonNull(name, "name");
        if (name.equals("region") != (region != null)) {
            throw new IllegalArgumentException("a region role names its region, no other role does: " + name + "/" + region);
        }
    }

    /** A region consumer (and its prober and dead-letter producer). */
    public static KafkaRole region(String region) {
        return new KafkaRole("region", Objects.requireNonNull(region, "region"));
    }

    /** Where this role's identity is configured in lethe.yml. */
    public String configPath() {
        return region == null ? "kafka.roles." + name : "regions." + region + ".kafka";
    }

    @Override
    public String toString() {
        return region == null ? name : "region " + region;
    }
}
