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
 *
 * <p>LSNs are positions in one source history ({@link io.lethe.schemas.SourceHistory}); field
 * {@code h:<partition>} names the history of the partition's LSN. A watermark is known only when
 * every partition has the same history (while a change of history travels through the
 * partitions, some may still hold the old one), and covers a token only of that history.
 */
public final class AppliedLsn {
    /** Prefix of the key: {@code lethe:lsn:<consumer group>}. */
    public static final String PREFIX = "lethe:lsn:";
    /** Field: the number of partitions of the region's topic. */
    public static final String PARTITIONS = "partitions";
    /** Prefix of the fields {@code ts:<partition>}: the commit time (epoch micros) of the same heartbeats. */
    public static final String COMMIT_TS_PREFIX = "ts:";
    /** Prefix of the fields {@code h:<partition>}: the source history of the partition's LSN (absent when unknown). */
    public static final String HISTORY_PREFIX = "h:";

    private AppliedLsn() {
    }

    /** The key of the region whose consumers form {@code group} ({@code <apply.group-prefix><region>}). */
    public static String key(String group) {
        return PREFIX + group;
    }

    /**
     * The watermark in the hash's fields; empty when a partition is missing, a field is not a
     * number, or the partitions' source histories differ.
     */
    public static OptionalLong of(Map<String, String> fields) {
        return history(fields).isPresent() ? oldest(fields, "") : OptionalLong.empty();
    }

    /**
     * The watermark for a token of source history {@code history}: empty unless every partition's
     * LSN is of that history (an LSN of another history says nothing of this one's positions).
     */
    public static OptionalLong of(Map<String, String> fields, String history) {
        return history(fields).filter(h -> h.equals(history)).isPresent() ? oldest(fields, "") : OptionalLong.empty();
    }

    /**
     * The source history every partition's LSN belongs to ("" when none says: written before
     * histories were recorded); empty when the partitions differ or the count is unknown.
     */
    public static java.util.Optional<String> history(Map<String, String> fields) {
        int partitions = partitions(fields);
        if (partitions <= 0) {
            return java.util.Optional.empty();
        }
        String first = fields.getOrDefault(HISTORY_PREFIX + 0, "");
        for (int p = 1; p < partitions; p++) {
            if (!first.equals(fields.getOrDefault(HISTORY_PREFIX + p, ""))) {
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.of(first);
    }

    private static int partitions(Map<String, String> fields) {
        if (fields == null) {
            return 0;
        }
        try {
            return Integer.parseInt(fields.getOrDefault(PARTITIONS, "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * The commit time (epoch micros) of the watermark's heartbeats: the oldest over the partitions;
     * empty when one is missing. Now minus it is the region's end-to-end lag.
     */
    public static OptionalLong commitTs(Map<String, String> fields) {
        return oldest(fields, COMMIT_TS_PREFIX);
    }

    /**
     * The highest partition LSN in the hash's fields (not the watermark, which is the oldest): a
     * position the region applied a heartbeat of, so the source has reached it; empty when none.
     */
    public static OptionalLong highest(Map<String, String> fields) {
        OptionalLong highest = OptionalLong.empty();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            if (!f.getKey().isEmpty() && f.getKey().chars().allMatch(Character::isDigit)) {
                try {
                    long lsn = Long.parseLong(f.getValue());
                    highest = OptionalLong.of(highest.isPresent() ? Math.max(highest.getAsLong(), lsn) : lsn);
                } catch (NumberFormatException notAPosition) {
                    // no reference from it
                }
            }
        }
        return highest;
    }

    private static OptionalLong oldest(Map<String, String> fields, String prefix) {
        int partitions = partitions(fields);
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
