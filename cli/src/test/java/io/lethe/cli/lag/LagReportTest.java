package io.lethe.cli.lag;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Watermark;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** {@code lethe lag}'s reading of the watermarks the stages leave in their topics. */
class LagReportTest {
    private static final String KEY = "a-watermark-key-of-32-characters";

    /**
     * Capture's age is read from the watermarks on the changes topic: one that does not verify with
     * streams.watermark-key (a forger's, with a fresh commit time) must not make capture look
     * current; one capture signed counts.
     */
    @Test
    void captureWatermarksCountOnlyWhenTheirSignatureVerifies() {
        LetheConfig config = ConfigLoader.parse("lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:1/shop", user: lethe, slot: lethe, publication: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:1" }
                streams: { watermark-key: %s }
                regions:
                  us-east: { redis: "redis://127.0.0.1:1" }
                namespaces:
                  a: { table: public.a, keys: ["a:{id}"] }
                """.formatted(KEY), name -> null);
        String topic = config.topics().changes();
        TopicPartition tp = new TopicPartition(topic, 0);
        MockConsumer<byte[], byte[]> reader = new MockConsumer<>("earliest");
        reader.updatePartitions(topic, List.of(new PartitionInfo(topic, 0, Node.noNode(), new Node[0], new Node[0])));
        reader.updateBeginningOffsets(Map.of(tp, 0L));
        reader.updateEndOffsets(Map.of(tp, 2L));
        reader.schedulePollTask(() -> {
            reader.addRecord(watermark(topic, 0, new Watermark(1_000_000L, 100, 0).writeTo(new RecordHeaders(),
                    KEY.getBytes(StandardCharsets.UTF_8))));
            reader.addRecord(watermark(topic, 1, new Watermark(9_000_000L, 200, 0).writeTo(new RecordHeaders(),
                    "a-forgers-key-of-32-characters!!".getBytes(StandardCharsets.UTF_8))));
        });
        Map<String, Map<Integer, Long>> newest = new LagReport(config, Clock.systemUTC()).newestWatermarks(reader, topic);
        assertEquals(Map.of("", Map.of(0, 1_000_000L)), newest, "the forged watermark (commit time 9000000) counted");
    }

    private static ConsumerRecord<byte[], byte[]> watermark(String topic, long offset, org.apache.kafka.common.header.Headers headers) {
        return new ConsumerRecord<>(topic, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1,
                Watermark.KEY.getBytes(StandardCharsets.UTF_8), new byte[0], headers, Optional.empty());
    }
}
