package io.lethe.region.apply;

import io.lethe.schemas.redis.AppliedLsn;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the region's applied watermark (commit LSNs, see {@link AppliedLsn}) into the region's
 * Redis for read-your-writes readers: for every partition this consumer owns, once a heartbeat of
 * every changes partition was applied through it. Runs on the consumer's thread after each batch;
 * writes only what moved. A failed write is tried again after the next batch: until then readers
 * see an older watermark and load from the primary, which is slower, never staler.
 *
 * <p>Partitions are added to topics to scale out. Every write carries partition counts read from
 * the brokers after the heartbeats it publishes were applied ({@link PartitionCounts}): a change
 * routed to a new partition was routed there before a later heartbeat was written, so the counts
 * read after applying that heartbeat include the new partition, and readers find no watermark for
 * it (and load from the primary) until one was applied there.
 */
final class AppliedLsnPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(AppliedLsnPublisher.class);

    /** The Redis writes this needs: HSET and HDEL of the watermark key's fields. */
    public interface Target {
        void hset(String key, Map<String, String> fields);

        void hdel(String key, String... fields);
    }

    private final AppliedWatermarks watermarks;
    private final Target redis;
    private final String key;
    private final PartitionCounts counts;
    /** The counts of the last write (null before): only to decide whether anything moved. */
    private PartitionCounts.Counts known;
    private final Map<Integer, Long> published = new HashMap<>();
    private long resetsSeen;

    /**
     * @param group  the region's consumer group (names the key)
     * @param counts the partition counts of the region's and the changes topic, read fresh when asked
     */
    public AppliedLsnPublisher(AppliedWatermarks watermarks, Target redis, String group, PartitionCounts counts) {
        this.watermarks = watermarks;
        this.redis = redis;
        this.key = AppliedLsn.key(group);
        this.counts = counts;
        this.resetsSeen = watermarks.resets();
    }

    /** Writes the watermark of each owned partition that moved since the last write. */
    public void publish(Set<Integer> owned) {
        try {
            if (watermarks.resets() != resetsSeen && !owned.isEmpty()) {
                // Redis lost applied writes, or the source's history changed: no reader may trust what
                // Redis says of our partitions (the other consumers of the group notice it for theirs)
                redis.hdel(key, owned.stream().flatMap(p -> Stream.of(String.valueOf(p), AppliedLsn.COMMIT_TS_PREFIX + p,
                        AppliedLsn.HISTORY_PREFIX + p)).toArray(String[]::new));
                published.clear();
                resetsSeen = watermarks.resets();
            }
            if (known != null && !moved(owned, known.changes())) {
                return;
            }
            // read after every heartbeat about to be published was applied (see the class comment)
            Optional<PartitionCounts.Counts> now = counts.now();
            if (now.isEmpty() || now.get().changes() <= 0 || now.get().region() <= 0) {
                return;
            }
            known = now.get();
            int sources = known.changes();
            watermarks.expectChannels(sources);
            int partitions = known.region();
            String history = watermarks.history();
            Map<String, String> fields = new HashMap<>();
            for (int partition : owned) {
                OptionalLong lsn = watermarks.appliedLsn(partition, sources);
                OptionalLong ts = watermarks.appliedCommitTs(partition, sources);
                if (lsn.isPresent() && ts.isPresent() && !Long.valueOf(lsn.getAsLong()).equals(published.get(partition))) {
                    fields.put(Integer.toString(partition), Long.toString(lsn.getAsLong()));
                    fields.put(AppliedLsn.COMMIT_TS_PREFIX + partition, Long.toString(ts.getAsLong()));
                    fields.put(AppliedLsn.HISTORY_PREFIX + partition, history);
                }
            }
            if (fields.isEmpty()) {
                return;
            }
            fields.put(AppliedLsn.PARTITIONS, Integer.toString(partitions));
            redis.hset(key, fields);
            fields.forEach((p, lsn) -> {
                if (!AppliedLsn.PARTITIONS.equals(p) && !p.startsWith(AppliedLsn.COMMIT_TS_PREFIX)
                        && !p.startsWith(AppliedLsn.HISTORY_PREFIX)) {
                    published.put(Integer.parseInt(p), Long.parseLong(lsn));
                }
            });
        } catch (RuntimeException e) {
            LOG.debug("applied watermark not written to {} ({}); the next batch tries again", key, e.toString());
        }
    }

    /** True when the watermark of one of {@code owned} moved since it was written (counted over {@code sources}). */
    private boolean moved(Set<Integer> owned, int sources) {
        for (int partition : owned) {
            OptionalLong lsn = watermarks.appliedLsn(partition, sources);
            if (lsn.isPresent() && !Long.valueOf(lsn.getAsLong()).equals(published.get(partition))) {
                return true;
            }
        }
        return false;
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
