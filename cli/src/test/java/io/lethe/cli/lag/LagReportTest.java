package io.lethe.cli.lag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * Mid-rotation, step 2 (this file: watermark-key NEW, previous OLD): capture not restarted yet
     * still signs with OLD, streams already with NEW, and a forger's or a stray stage's watermark
     * carries a third key. lethe lag names each signer's key id, says the stages disagree and which
     * key this file does not accept, and, from a region's /metrics, that the region (still on a file
     * without NEW) refuses what streams signs.
     */
    @Test
    void theSigningReportNamesEachSignersKeyIdAndWhatIsNotAccepted() {
        String oldKey = "the-old-watermark-key-of-32-chars";
        String newKey = "the-new-watermark-key-of-32-chars";
        String thirdKey = "a-third-key-nobody-was-given-000";
        LetheConfig config = ConfigLoader.parse("lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:1/shop", user: lethe, slot: lethe, publication: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:1" }
                streams: { watermark-key: %s, previous-watermark-key: %s }
                regions:
                  us-east: { redis: "redis://127.0.0.1:1" }
                namespaces:
                  a: { table: public.a, keys: ["a:{id}"] }
                """.formatted(newKey, oldKey), name -> null);
        LagReport report = new LagReport(config, Clock.systemUTC());
        String changes = config.topics().changes();
        String region = config.topics().invalidations("us-east");
        report.newestWatermarks(reader(changes, 1, new Watermark(1_000_000L, 100, -1).writeTo(new RecordHeaders(), bytes(newKey)),
                new Watermark(2_000_000L, 200, -1).writeTo(new RecordHeaders(), bytes(oldKey))), changes);
        report.newestWatermarks(reader(region, 2, new Watermark(1_000_000L, 100, 0).writeTo(new RecordHeaders(), bytes(newKey), "r"),
                new Watermark(2_000_000L, 200, 0).writeTo(new RecordHeaders(), bytes(thirdKey), "r")), region);
        report.signing().scraped("""
                # HELP lethe_signing_key 1 per key id
                lethe_signing_key{id="%s",role="accepts",stage="region:us-east"} 1.0
                """.formatted(id(oldKey)));

        assertEquals(Map.of("capture on " + changes, java.util.Set.of(id(oldKey)), "streams on " + region,
                java.util.Set.of(id(newKey), id(thirdKey))), report.signing().signers(), "the newest watermark of each partition");
        List<String> lines = report.signing().lines();
        String all = String.join("\n", lines);
        assertEquals("signing keys: this file signs with " + id(newKey) + ", accepts " + id(newKey) + " and " + id(oldKey), lines.get(0),
                all);
        assertTrue(lines.contains("capture on " + changes + ": newest watermarks signed with key " + id(oldKey)
                + " (this file's previous key)"), all);
        assertTrue(all.contains("streams on " + region + ": newest watermarks signed with key " + id(newKey)
                + " (this file's current key)"), all);
        assertTrue(all.contains("WARN stages sign with different keys"), all);
        assertTrue(lines.contains("WARN streams signs with key " + id(thirdKey) + ", which this file does not accept (" + id(newKey)
                + " and " + id(oldKey) + "): a verifier on this file refuses what it writes (untrusted-record, untrusted-watermark)"), all);
        assertTrue(lines.contains("WARN region:us-east does not accept key " + id(newKey) + " that streams signs with: it refuses what "
                + "streams writes"), all);
        assertTrue(!all.contains("watermark-key-of") && !all.contains(thirdKey), "ids only, never a key: " + all);
    }

    /**
     * A signer whose watermarks carry no id and do not verify (unsigned: a capture on a file without a key) is one every
     * verifier on this file refuses: named, not passed over; a scraped stage this file does not have is said so.
     */
    @Test
    void anUnsignedSignerAndAStageOfAnotherFileAreReported() {
        String key = "the-new-watermark-key-of-32-chars";
        LetheConfig config = ConfigLoader.parse("lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:1/shop", user: lethe, slot: lethe, publication: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:1" }
                streams: { watermark-key: %s }
                regions:
                  us-east: { redis: "redis://127.0.0.1:1" }
                namespaces:
                  a: { table: public.a, keys: ["a:{id}"] }
                """.formatted(key), name -> null);
        LagReport report = new LagReport(config, Clock.systemUTC());
        String changes = config.topics().changes();
        report.newestWatermarks(reader(changes, 1, new Watermark(1_000_000L, 100, -1).writeTo(new RecordHeaders(), null)), changes);
        report.signing().scraped("lethe_signing_key{id=\"%s\",role=\"accepts\",stage=\"region:eu-west\"} 1.0".formatted(id(key)));

        assertEquals(Map.of("capture on " + changes, java.util.Set.of(SigningReport.UNVERIFIED)), report.signing().signers());
        String all = String.join("\n", report.signing().lines());
        assertTrue(all.contains("WARN capture's newest watermarks carry no key id and do not verify"), all);
        assertTrue(all.contains("region:eu-west is not a stage of lethe.yml: its keys are not compared"), all);
    }

    /** {@code partitions} partitions of {@code topic}: watermark i at partition i % partitions, offset i / partitions. */
    private static MockConsumer<byte[], byte[]> reader(String topic, int partitions, org.apache.kafka.common.header.Headers... headers) {
        MockConsumer<byte[], byte[]> reader = new MockConsumer<>("earliest");
        List<PartitionInfo> infos = new java.util.ArrayList<>();
        Map<TopicPartition, Long> begin = new java.util.HashMap<>();
        Map<TopicPartition, Long> end = new java.util.HashMap<>();
        for (int p = 0; p < partitions; p++) {
            infos.add(new PartitionInfo(topic, p, Node.noNode(), new Node[0], new Node[0]));
            begin.put(new TopicPartition(topic, p), 0L);
            end.put(new TopicPartition(topic, p), (long) (headers.length - p + partitions - 1) / partitions);
        }
        reader.updatePartitions(topic, infos);
        reader.updateBeginningOffsets(begin);
        reader.updateEndOffsets(end);
        reader.schedulePollTask(() -> {
            for (int i = 0; i < headers.length; i++) {
                reader.addRecord(new ConsumerRecord<>(topic, i % partitions, i / partitions, 0L, TimestampType.CREATE_TIME, -1, -1,
                        Watermark.KEY.getBytes(StandardCharsets.UTF_8), new byte[0], headers[i], Optional.empty()));
            }
        });
        return reader;
    }

    private static byte[] bytes(String key) {
        return key.getBytes(StandardCharsets.UTF_8);
    }

    private static String id(String key) {
        return io.lethe.schemas.SigningKeys.keyId(bytes(key));
    }

    private static ConsumerRecord<byte[], byte[]> watermark(String topic, long offset, org.apache.kafka.common.header.Headers headers) {
        return new ConsumerRecord<>(topic, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1,
                Watermark.KEY.getBytes(StandardCharsets.UTF_8), new byte[0], headers, Optional.empty());
    }
}
