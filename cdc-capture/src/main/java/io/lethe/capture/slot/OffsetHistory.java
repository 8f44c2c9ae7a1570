package io.lethe.capture.slot;

import io.lethe.config.LetheConfig;
import io.lethe.config.kafka.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Whether capture has committed source offsets before, read from its Kafka offset topic. With
 * offsets but no slot, the slot was dropped while capture was away: changes may be missing.
 */
public final class OffsetHistory {
    private OffsetHistory() {
    }

    /** True when the offset topic holds an offset for {@code serverName} (Debezium's topic.prefix). */
    public static boolean hasOffsets(LetheConfig config, String serverName, Duration timeout) {
        String topic = config.topics().captureOffsets();
        Map<String, Object> common = KafkaClients.common(config.kafka(), "lethe-capture-offset-check");
        try (Admin admin = Admin.create(common)) {
            Set<String> topics = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!topics.contains(topic)) {
                return false;
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("cannot read capture offsets from " + topic + ": " + e, e);
        }
        Map<String, Object> props = KafkaClients.common(config.kafka(), "lethe-capture-offset-check");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        String marker = "\"server\":\"" + serverName + "\"";
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, timeout);
            List<TopicPartition> tps = partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean found = false;
            while (!reached(consumer, end) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() != null && new String(r.key(), StandardCharsets.UTF_8).replace(" ", "").contains(marker)) {
                        found = r.value() != null;
                    }
                }
            }
            if (!reached(consumer, end)) {
                throw new IllegalStateException("could not read " + topic + " to its end within " + timeout);
            }
            return found;
        }
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }
}
