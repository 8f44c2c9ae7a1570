package io.lethe.stage.kafka;

import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * A consumer group's committed offsets and the offsets of the topics it reads, as {@code lethe lag},
 * invalidation-streams' retention guard, a region's topic move and the workbench's drain ask Kafka
 * for them; and the one reading of them as a backlog ({@link #unread}). Every call waits at most
 * its {@code timeout}.
 */
public final class GroupOffsets {
    private GroupOffsets() {
    }

    /**
     * The offsets {@code group} committed, by partition; a partition it never committed is absent
     * (or, as Kafka may answer, mapped to null: {@link #next} reads both as no commit).
     */
    public static Map<TopicPartition, OffsetAndMetadata> committed(Admin admin, String group, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Every partition of {@code topic}, as the cluster describes it now (never cached: partitions are added to scale out). */
    public static List<TopicPartition> partitions(Admin admin, String topic, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS).get(topic).partitions()
                .stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }

    /** The end offset of each of {@code partitions}: the offset the next record written to it will have. */
    public static Map<TopicPartition, Long> latest(Admin admin, Collection<TopicPartition> partitions, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        return offsets(admin, partitions, OffsetSpec.latest(), timeout);
    }

    /** The log start offset of each of {@code partitions}: the first record retention has not deleted. */
    public static Map<TopicPartition, Long> earliest(Admin admin, Collection<TopicPartition> partitions, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        return offsets(admin, partitions, OffsetSpec.earliest(), timeout);
    }

    private static Map<TopicPartition, Long> offsets(Admin admin, Collection<TopicPartition> partitions, OffsetSpec spec, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetSpec> request = new LinkedHashMap<>();
        partitions.forEach(tp -> request.put(tp, spec));
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        if (request.isEmpty()) {
            return out;
        }
        admin.listOffsets(request).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS).forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    /**
     * Where the group reads {@code tp} from next: its commit, else the partition's beginning (Lethe's
     * groups start at the earliest offset).
     */
    public static long next(TopicPartition tp, Map<TopicPartition, OffsetAndMetadata> committed, Map<TopicPartition, Long> beginning) {
        OffsetAndMetadata c = committed.get(tp);
        return c == null ? beginning.get(tp) : c.offset();
    }

    /**
     * The records of {@code partitions} the group has not consumed: per partition its end less
     * {@link #next}, never below 0, summed (the group's lag in records).
     */
    public static long unread(Collection<TopicPartition> partitions, Map<TopicPartition, OffsetAndMetadata> committed,
            Map<TopicPartition, Long> beginning, Map<TopicPartition, Long> end) {
        long unread = 0;
        for (TopicPartition tp : partitions) {
            unread += Math.max(0, end.get(tp) - next(tp, committed, beginning));
        }
        return unread;
    }
}
