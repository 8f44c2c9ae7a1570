package io.lethe.capture.slot;

import io.lethe.config.LetheConfig;
import io.lethe.config.kafka.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
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
        return storedKey(config, serverName, timeout).isPresent();
    }

    /**
     * Forgets the stored offset (a tombstone for its key), so Debezium starts as on its first run:
     * from a new slot, at the current WAL position. Used after a lost slot, once every namespace
     * has been reset, because Debezium refuses to resume from a position the new slot lacks.
     */
    public static void forget(LetheConfig config, String serverName, Duration timeout) throws InterruptedException {
        Optional<byte[]> key = storedKey(config, serverName, timeout);
        if (key.isEmpty()) {
            return;
        }
        Map<String, Object> props = KafkaClients.common(config.kafka(), "lethe-capture-offset-reset");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(config.topics().captureOffsets(), key.get(), null)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot clear the stored capture offset in " + config.topics().captureOffsets() + ": " + e, e);
        }
    }

    /** The key of the live offset record of {@code serverName}, if there is one. */
    private static Optional<byte[]> storedKey(LetheConfig config, String serverName, Duration timeout) {
        String topic = config.topics().captureOffsets();
        Map<String, Object> common = KafkaClients.common(config.kafka(), "lethe-capture-offset-check");
        try (Admin admin = Admin.create(common)) {
            Set<String> topics = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!topics.contains(topic)) {
                return Optional.empty();
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
            byte[] found = null;
            while (!reached(consumer, end) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() != null && new String(r.key(), StandardCharsets.UTF_8).replace(" ", "").contains(marker)) {
                        found = r.value() != null ? r.key() : null;
                    }
                }
            }
            if (!reached(consumer, end)) {
                throw new IllegalStateException("could not read " + topic + " to its end within " + timeout);
            }
            return Optional.ofNullable(found);
        }
    }

    private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }
}
