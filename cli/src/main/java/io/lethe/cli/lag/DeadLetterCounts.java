package io.lethe.cli.lag;

import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Headers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/** Dead-lettered records by the stage that dead-lettered them, read from every DLQ the configuration has. */
final class DeadLetterCounts {
    private DeadLetterCounts() {
    }

    /**
     * Total DLQ records by stage (capture, streams, region:name): the primary's DLQ, and that of each
     * cluster of its own a region reads (a mirrored region dead-letters there; read with its settings).
     */
    static Map<String, Long> byStage(LetheConfig config) {
        Map<String, Long> counts = new LinkedHashMap<>();
        try (KafkaConsumer<byte[], byte[]> reader = LagReaders.reader(config, KafkaRole.CLI)) {
            count(config, reader, counts);
        }
        Set<String> clusters = new HashSet<>();
        for (String region : config.regions().keySet()) {
            KafkaRole role = KafkaRole.region(region);
            if (config.kafka().ownCluster(role) && clusters.add(config.kafka().bootstrapServers(role))) {
                try (KafkaConsumer<byte[], byte[]> reader = LagReaders.reader(config, role)) {
                    count(config, reader, counts);
                }
            }
        }
        return counts;
    }

    private static void count(LetheConfig config, KafkaConsumer<byte[], byte[]> reader, Map<String, Long> counts) {
        List<TopicPartition> partitions = LagReaders.partitions(reader, config.topics().dlq());
        if (partitions.isEmpty()) {
            return;
        }
        reader.assign(partitions);
        reader.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = reader.endOffsets(partitions, LagReaders.TIMEOUT);
        long deadline = System.nanoTime() + LagReaders.TIMEOUT.toNanos();
        while (end.entrySet().stream().anyMatch(e -> reader.position(e.getKey()) < e.getValue()) && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
                Header stage = r.headers().lastHeader(Headers.DLQ_STAGE);
                counts.merge(stage == null ? "unknown" : new String(stage.value(), StandardCharsets.UTF_8), 1L, Long::sum);
            }
        }
    }
}
