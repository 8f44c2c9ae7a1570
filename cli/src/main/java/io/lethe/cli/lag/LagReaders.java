package io.lethe.cli.lag;

import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** The Kafka readers {@code lethe lag} reads topics with, and how long it waits for each answer. */
final class LagReaders {
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private LagReaders() {
    }

    /** A reader on {@code role}'s cluster with its settings (the CLI's on the primary; a mirrored region's on its own). */
    static KafkaConsumer<byte[], byte[]> reader(LetheConfig config, KafkaRole role) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), role, "lethe-lag-reader");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** The partitions of {@code topic}, none when it does not exist. */
    static List<TopicPartition> partitions(Consumer<byte[], byte[]> reader, String topic) {
        return reader.partitionsFor(topic, TIMEOUT).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    }
}
