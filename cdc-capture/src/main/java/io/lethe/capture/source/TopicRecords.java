package io.lethe.capture.source;

import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * A keyed record of one of capture's compacted topics ({@code <prefix>.capture.offsets}), read
 * the way compaction keeps it: the whole topic to its end, the last record of the key wins, and a
 * tombstone means none. What capture's stored offset ({@link OffsetHistory}) and the
 * debezium-topics table watch's kept state are read with.
 */
public final class TopicRecords {
    private TopicRecords() {
    }

    /**
     * The last record of {@code topic} whose key {@code key} accepts, read from the beginning to the
     * end offsets taken now; empty when there is none, or the last is a tombstone.
     *
     * @throws IllegalStateException when the topic has no partitions (or does not exist), or cannot
     *                               be read to its end within {@code timeout}
     */
    public static Optional<ConsumerRecord<byte[], byte[]>> last(LetheConfig config, String clientId, String topic, Predicate<byte[]> key,
            Duration timeout) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, clientId);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> tps = consumer.partitionsFor(topic, timeout).stream().map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            if (tps.isEmpty()) {
                throw new IllegalStateException("topic " + topic + " has no partitions (or does not exist)");
            }
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            ConsumerRecord<byte[], byte[]> found = null;
            while (!end.entrySet().stream().allMatch(e -> consumer.position(e.getKey(), timeout) >= e.getValue())) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("could not read " + topic + " to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() != null && key.test(r.key())) {
                        found = r.value() == null ? null : r;
                    }
                }
            }
            return Optional.ofNullable(found);
        }
    }
}
