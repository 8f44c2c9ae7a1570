package io.lethe.region.apply;

import io.lethe.stage.failure.Failure;
import io.lethe.stage.failure.KafkaFailures;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.retry.Backoff;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the loop reads its topic: {@code consumer.poll} with Kafka's errors handled (a partition
 * without a usable offset starts from its log's start, anything else is classified, reported and
 * waited out), and the waits between retries of a batch spent polling with every partition paused.
 */
final class RegionPoll {
    private static final Logger LOG = LoggerFactory.getLogger(RegionPoll.class);

    private final String region;
    private final Consumer<String, byte[]> consumer;
    private final RestoreReplay restore;
    private final RegionMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final Backoff backoff;
    private final BooleanSupplier retrying;
    private final Applying fromLogStart;

    /**
     * @param retrying     true while a batch is retried (its failure, not the poll's, sets health then)
     * @param fromLogStart applies the wholesale invalidation a start from the log's start may need
     */
    RegionPoll(String region, Consumer<String, byte[]> consumer, RestoreReplay restore, RegionMetrics metrics,
            Misconfiguration misconfiguration, Backoff backoff, BooleanSupplier retrying, Applying fromLogStart) {
        this.region = region;
        this.consumer = consumer;
        this.restore = restore;
        this.metrics = metrics;
        this.misconfiguration = misconfiguration;
        this.backoff = backoff;
        this.retrying = retrying;
        this.fromLogStart = fromLogStart;
    }

    /**
     * {@code consumer.poll}: a partition without a committed offset, or with one outside its log,
     * starts from the log's start (see {@link RestoreReplay#startFromLogStart}); any other Kafka
     * error is classified, reported, and waited out (then no records).
     */
    ConsumerRecords<String, byte[]> poll(Duration timeout) throws InterruptedException {
        try {
            ConsumerRecords<String, byte[]> records = consumer.poll(timeout);
            backoff.reset();
            if (!retrying.getAsBoolean()) {
                misconfiguration.clear();
            }
            return records;
        } catch (NoOffsetForPartitionException e) {
            restore.startFromLogStart(e.partitions(), false, fromLogStart);
        } catch (OffsetOutOfRangeException e) {
            restore.startFromLogStart(e.offsetOutOfRangePartitions().keySet(), true, fromLogStart);
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            Failure f = KafkaFailures.classify(e);
            metrics.retry(f.reason());
            if (f.isFatal()) {
                misconfiguration.report(f);
            } else {
                LOG.warn("region {}: polling failed ({}); retrying", region, e.toString());
            }
            backoff.sleep();
        }
        return ConsumerRecords.empty();
    }

    /**
     * Waits {@code wait}, polling with every partition paused so the consumer stays in its group;
     * {@code eachPoll} runs after every poll. False when {@code running} turned false meanwhile.
     */
    boolean waitPaused(Duration wait, BooleanSupplier running, Runnable eachPoll) throws InterruptedException {
        long until = System.nanoTime() + wait.toNanos();
        while (running.getAsBoolean() && System.nanoTime() < until) {
            ConsumerRecords<String, byte[]> stray = poll(Duration.ofMillis(Math.min(100, Math.max(1, wait.toMillis()))));
            // partitions assigned during the wait are paused by the ledger; should a record slip
            // through, rewind so it is read again after this batch
            for (TopicPartition tp : stray.partitions()) {
                consumer.seek(tp, stray.records(tp).get(0).offset());
            }
            eachPoll.run();
        }
        return running.getAsBoolean();
    }

    /** {@code records} without those of {@code partitions} (sought back: they are read again). */
    static ConsumerRecords<String, byte[]> without(ConsumerRecords<String, byte[]> records, Set<TopicPartition> partitions) {
        if (records.isEmpty() || partitions.isEmpty() || Collections.disjoint(records.partitions(), partitions)) {
            return records;
        }
        Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> kept = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            if (!partitions.contains(tp)) {
                kept.put(tp, records.records(tp));
            }
        }
        return new ConsumerRecords<>(kept, Map.of());
    }
}
