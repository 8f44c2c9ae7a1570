package io.lethe.dev.verify;

import java.util.concurrent.TimeoutException;
import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.region.RegionConsumerService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * "The pipeline has drained", written once for {@code lethe verify}'s seeded run and its
 * scenarios: after a sentinel change reached every region (each caller writes its own), the
 * sentinel passed one partition of each topic, and the others can still hold what came before it
 * (a namespace reset the retention guard published, say). So invalidation-streams must have
 * committed what the changes topic holds by now, then each region what its topic holds after
 * that; each commits only after handling all of it. A partition that holds nothing, or whose
 * records retention deleted, needs no commit.
 */
public final class Drain {
    private static final Duration POLL = Duration.ofMillis(100);
    /** The longest one question to Kafka may take. */
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);

    private Drain() {
    }

    /**
     * Waits until invalidation-streams and then each of {@code regions} committed everything their
     * topics hold; throws {@link IllegalStateException} naming the group that did not within
     * {@code timeout} (each group has the whole timeout).
     */
    public static void awaitCommitted(LetheConfig config, List<String> regions, Duration timeout) throws Exception {
        if (!committedAllItHeld(config, KafkaRole.CLI, config.topics().changes(), config.streams().applicationId(), timeout)) {
            throw new IllegalStateException("timed out after " + timeout.toSeconds()
                    + " s waiting for invalidation-streams to commit what the changes topic held at the sentinel");
        }
        for (String region : regions) {
            if (!committedAllItHeld(config, region, timeout)) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + region
                        + " to commit what its topic held at the sentinel");
            }
        }
    }

    /** {@link #committedAllItHeld(LetheConfig, KafkaRole, String, String, Duration)} of {@code region}'s group and topic. */
    public static boolean committedAllItHeld(LetheConfig config, String region, Duration timeout) throws Exception {
        return committedAllItHeld(config, KafkaRole.region(region), config.topics().invalidations(region),
                RegionConsumerService.groupId(config, region), timeout);
    }

    /**
     * True once consumer group {@code group} has committed everything {@code topic} holds now (a
     * partition that holds nothing, or whose records retention deleted, needs no commit); false
     * when {@code timeout} passes first.
     */
    public static boolean committedAllItHeld(LetheConfig config, KafkaRole role, String topic, String group, Duration timeout)
            throws Exception {
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), role, "drain"))) {
            List<TopicPartition> partitions = GroupOffsets.partitions(admin, topic, KAFKA_TIMEOUT);
            Map<TopicPartition, Long> ends = GroupOffsets.latest(admin, partitions, KAFKA_TIMEOUT);
            Map<TopicPartition, Long> starts = GroupOffsets.earliest(admin, partitions, KAFKA_TIMEOUT);
            long deadline = System.nanoTime() + timeout.toNanos();
            do { // asked at least once, however little of a caller's timeout is left
                try {
                    Map<TopicPartition, OffsetAndMetadata> committed = GroupOffsets.committed(admin, group, KAFKA_TIMEOUT);
                    // not GroupOffsets.unread(...) == 0: a partition whose records retention deleted since the group's commit
                    // holds nothing left to apply, though the commit is behind its end
                    if (ends.entrySet().stream().allMatch(e -> starts.get(e.getKey()) >= e.getValue()
                            || committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() >= e.getValue())) {
                        return true;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // Kafka cannot say yet: ask again
                }
                Thread.sleep(POLL.toMillis());
            } while (System.nanoTime() < deadline);
            return false;
        }
    }
}
