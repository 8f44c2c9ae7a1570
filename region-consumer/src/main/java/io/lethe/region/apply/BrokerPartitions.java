package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many partitions the topics a region depends on have, as its parts need them: the restore
 * guard (the region's topic, from the consumer's metadata), the applied watermark and the proof of
 * a topic move (both counts from the brokers) and the replay floor (the changes topic, refreshed
 * now and then).
 */
final class BrokerPartitions {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerPartitions.class);
    private static final Duration PARTITIONS_WAIT = Duration.ofSeconds(1);
    private static final Duration PARTITIONS_RETRY = Duration.ofSeconds(2);
    private static final Duration SOURCES_REFRESH = Duration.ofSeconds(10);

    private final LetheConfig config;
    private final String region;
    private final Consumer<String, byte[]> consumer;
    private final Admin admin;
    /** On the primary cluster, for a region reading a mirrored cluster of its own; else null. */
    private final Admin primaryAdmin;

    BrokerPartitions(LetheConfig config, String region, Consumer<String, byte[]> consumer, Admin admin, Admin primaryAdmin) {
        this.config = config;
        this.region = region;
        this.consumer = consumer;
        this.admin = admin;
        this.primaryAdmin = primaryAdmin;
    }

    /**
     * The partition count of {@code topic} from the consumer's metadata (on its thread), 0 while
     * unknown. Not cached here: the consumer refreshes its metadata every
     * {@code metadata.max.age.ms} (10 s), so partitions added to scale out are counted soon after.
     */
    IntSupplier ofTopic(String topic) {
        return () -> {
            try {
                var partitions = consumer.partitionsFor(topic, PARTITIONS_WAIT);
                return partitions == null ? 0 : partitions.size();
            } catch (KafkaException e) {
                LOG.debug("region {}: partitions of {} not known now ({})", region, topic, e.toString());
                return 0;
            }
        };
    }

    /**
     * The partition counts of the region's topic and the changes topic, read from the brokers each
     * time (never cached: partitions are added to scale out, and a count read before a heartbeat
     * was applied may miss the partition a change before it went to). Waits at most
     * {@link #PARTITIONS_WAIT}; empty when the brokers do not answer in time or a topic does not
     * exist yet (the changes topic may not when regions start).
     *
     * <p>A region reading a mirrored cluster of its own reads both counts from the primary, where
     * streams routes: the changes topic is not mirrored, and the mirror adds a partition to the
     * region's topic only some time after streams began routing to it there. A watermark published
     * with the mirror's smaller count would send a reader of a key routed to the new partition to
     * an old partition's watermark, which can have passed that key's change while the change is
     * still on its way through the mirror; with the primary's count the reader finds no watermark
     * for the new partition until one was applied here, and loads from the primary.
     */
    PartitionCounts counts() {
        String regionTopic = config.topics().invalidations(region);
        String changesTopic = config.topics().changes();
        long[] failedAt = {System.nanoTime() - PARTITIONS_RETRY.toNanos()};
        return () -> {
            if (System.nanoTime() - failedAt[0] < PARTITIONS_RETRY.toNanos()) {
                return Optional.empty(); // the brokers did not answer just now: the loop does not wait on them again yet
            }
            try {
                Map<String, TopicDescription> topics = (primaryAdmin != null ? primaryAdmin : admin)
                        .describeTopics(List.of(regionTopic, changesTopic))
                        .allTopicNames().get(PARTITIONS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                // one watermark channel per capture shard and changes partition: a region covers a position only once every
                // shard's heartbeats passed it on every partition (a shard whose watermark never came holds it back)
                return Optional.of(new PartitionCounts.Counts(topics.get(regionTopic).partitions().size(),
                        topics.get(changesTopic).partitions().size() * config.shardCount()));
            } catch (ExecutionException | TimeoutException e) {
                failedAt[0] = System.nanoTime();
                LOG.debug("region {}: partitions of {} and {} not known now ({}); the applied watermark waits", region,
                        regionTopic, changesTopic, e.toString());
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        };
    }

    /**
     * How many partitions the changes topic has, for the replay floor: read from the brokers at most
     * every {@link #SOURCES_REFRESH} (partitions are added rarely, and a count that is behind only
     * turns upserts of a new partition into deletes until it is read again); 0 while never known.
     */
    IntSupplier changes() {
        PartitionCounts counts = counts();
        int[] known = {0};
        long[] readAt = {System.nanoTime() - SOURCES_REFRESH.toNanos()};
        return () -> {
            if (System.nanoTime() - readAt[0] >= (known[0] == 0 ? PARTITIONS_RETRY : SOURCES_REFRESH).toNanos()) {
                readAt[0] = System.nanoTime();
                counts.now().ifPresent(c -> known[0] = Math.max(known[0], c.changes()));
            }
            return known[0];
        };
    }
}
