package io.lethe.region.lag;

import io.lethe.schemas.redis.AppliedLsn;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the region's applied watermark (commit LSNs, see {@link AppliedLsn}) into the region's
 * Redis for read-your-writes readers: for every partition this consumer owns, once a heartbeat of
 * every changes partition was applied through it. Runs on the consumer's thread after each batch;
 * writes only what moved. A failed write is tried again after the next batch: until then readers
 * see an older watermark and load from the primary, which is slower, never staler.
 */
public final class AppliedLsnPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(AppliedLsnPublisher.class);

    /** The Redis writes this needs: HSET and HDEL of the watermark key's fields. */
    public interface Target {
        void hset(String key, Map<String, String> fields);

        void hdel(String key, String... fields);
    }

    private final AppliedWatermarks watermarks;
    private final Target redis;
    private final String key;
    private final IntSupplier regionPartitions;
    private final IntSupplier changesPartitions;
    private final Map<Integer, Long> published = new HashMap<>();
    private long resetsSeen;

    /**
     * @param group             the region's consumer group (names the key)
     * @param regionPartitions  partitions of the region's topic (0 while unknown)
     * @param changesPartitions partitions of the changes topic, each a source of heartbeats (0 while unknown)
     */
    public AppliedLsnPublisher(AppliedWatermarks watermarks, Target redis, String group, IntSupplier regionPartitions,
                               IntSupplier changesPartitions) {
        this.watermarks = watermarks;
        this.redis = redis;
        this.key = AppliedLsn.key(group);
        this.regionPartitions = regionPartitions;
        this.changesPartitions = changesPartitions;
        this.resetsSeen = watermarks.resets();
    }

    /** Writes the watermark of each owned partition that moved since the last write. */
    public void publish(Set<Integer> owned) {
        try {
            if (watermarks.resets() != resetsSeen && !owned.isEmpty()) {
                // Redis lost applied writes: no reader may trust what the restored data says of our
                // partitions (the other consumers of the group notice the restore for theirs)
                redis.hdel(key, owned.stream().flatMap(p -> java.util.stream.Stream.of(String.valueOf(p), AppliedLsn.COMMIT_TS_PREFIX + p))
                        .toArray(String[]::new));
                published.clear();
                resetsSeen = watermarks.resets();
            }
            int sources = changesPartitions.getAsInt();
            int partitions = regionPartitions.getAsInt();
            if (sources <= 0 || partitions <= 0) {
                return;
            }
            Map<String, String> fields = new HashMap<>();
            for (int partition : owned) {
                OptionalLong lsn = watermarks.appliedLsn(partition, sources);
                OptionalLong ts = watermarks.appliedCommitTs(partition, sources);
                if (lsn.isPresent() && ts.isPresent() && !Long.valueOf(lsn.getAsLong()).equals(published.get(partition))) {
                    fields.put(Integer.toString(partition), Long.toString(lsn.getAsLong()));
                    fields.put(AppliedLsn.COMMIT_TS_PREFIX + partition, Long.toString(ts.getAsLong()));
                }
            }
            if (fields.isEmpty()) {
                return;
            }
            fields.put(AppliedLsn.PARTITIONS, Integer.toString(partitions));
            redis.hset(key, fields);
            fields.forEach((p, lsn) -> {
                if (!AppliedLsn.PARTITIONS.equals(p) && !p.startsWith(AppliedLsn.COMMIT_TS_PREFIX)) {
                    published.put(Integer.parseInt(p), Long.parseLong(lsn));
                }
            });
        } catch (RuntimeException e) {
            LOG.debug("applied watermark not written to {} ({}); the next batch tries again", key, e.toString());
        }
    }

    /** The oldest value this consumer wrote over {@code owned} partitions; empty when one has none yet. */
    public OptionalLong published(Set<Integer> owned) {
        long oldest = Long.MAX_VALUE;
        for (int partition : owned) {
            Long lsn = published.get(partition);
            if (lsn == null) {
                return OptionalLong.empty();
            }
            oldest = Math.min(oldest, lsn);
        }
        return owned.isEmpty() ? OptionalLong.empty() : OptionalLong.of(oldest);
    }
}
