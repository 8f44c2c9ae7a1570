package io.lethe.schemas.redis;

import java.util.Map;
import java.util.OptionalLong;

/**
 * A region's applied watermark as readers find it in the region's Redis, for read-your-writes:
 * the hash {@code lethe:lsn:<consumer group>} holds, for every partition of the region's topic,
 * the LSN up to which every change that came through it is applied (the oldest newest-heartbeat
 * LSN over the changes partitions), and in field {@link #PARTITIONS} how many partitions there
 * are. The region's watermark is the oldest of them; it is known only when every partition has
 * one. A change committed before a writer took its token (see {@code ReadToken}) is applied in
 * this region once the watermark is at or past the token.
 *
 * <p>The region consumers write it after Redis acknowledged what came before each heartbeat (with
 * a replica gate: after the re-apply past the replica's replay), and withdraw it when Redis lost
 * applied writes (a restore) until the replay brings heartbeats again.
 */
public final class AppliedLsn {
    /** Prefix of the key: {@code lethe:lsn:<consumer group>}. */
    public static final String PREFIX = "lethe:lsn:";
    /** Field: the number of partitions of the region's topic. */
    public static final String PARTITIONS = "partitions";
    /** Prefix of the fields {@code ts:<partition>}: the commit time (epoch micros) of the same heartbeats. */
    public static final String COMMIT_TS_PREFIX = "ts:";

    private AppliedLsn() {
    }

    /** The key of the region whose consumers form {@code group} ({@code <apply.group-prefix><region>}). */
    public static String key(String group) {
        return PREFIX + group;
    }

    /** The watermark in the hash's fields; empty when a partition is missing or a field is not a number. */
    public static OptionalLong of(Map<String, String> fields) {
        return oldest(fields, "");
    }

    /**
     * The commit time (epoch micros) of the watermark's heartbeats: the oldest over the partitions;
     * empty when one is missing. Now minus it is the region's end-to-end lag.
     */
    public static OptionalLong commitTs(Map<String, String> fields) {
        return oldest(fields, COMMIT_TS_PREFIX);
    }

    private static OptionalLong oldest(Map<String, String> fields, String prefix) {
        if (fields == null) {
            return OptionalLong.empty();
        }
        int partitions;
        try {
            partitions = Integer.parseInt(fields.getOrDefault(PARTITIONS, "0"));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
        if (partitions <= 0) {
            return OptionalLong.empty();
        }
        long oldest = Long.MAX_VALUE;
        for (int p = 0; p < partitions; p++) {
            String lsn = fields.get(prefix + p);
            if (lsn == null) {
                return OptionalLong.empty();
            }
            try {
                oldest = Math.min(oldest, Long.parseLong(lsn));
            } catch (NumberFormatException e) {
                return OptionalLong.empty();
            }
        }
        return OptionalLong.of(oldest);
    }
}
