package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.RecordSignature;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A region in the middle of a rotation of {@code streams.watermark-key} ({@code watermark-key:
 * NEW, previous-watermark-key: OLD}, docs/security.md): a streams instance not yet restarted still
 * signs with OLD, and its upserts and watermarks are believed exactly as NEW's are; a record
 * signed with a third key is still refused {@code untrusted-record}, and a watermark signed with
 * it does not raise the LSN ceiling.
 */
class AdmissionRotationTest {
    private static final String TOPIC = "lethe.invalidations";
    private static final String OLD = "the-old-watermark-key-of-32-chars";
    private static final String NEW = "the-new-watermark-key-of-32-chars";
    private static final String THIRD = "a-third-key-nobody-was-given-000";
    /** What streams stamps an upsert of namespace price with (the same namespace in every test here): {@link HoldsStamp}. */
    private static final String PRICE_HOLDS = ConfigLoader.parse("unit.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9" }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              price: { table: public.prices, keys: ["price:{id}"], mode: upsert, payload-columns: [price] }
            """, name -> null).namespaces().get("price").holdsFingerprint();

    @Test
    void recordsAndWatermarksSignedWithThePreviousKeyAreAdmittedAndAThirdKeysAreRefused() {
        LetheConfig config = ConfigLoader.parse("unit.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                streams: { watermark-key: %s, previous-watermark-key: %s }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  price: { table: public.prices, keys: ["price:{id}"], mode: upsert, payload-columns: [price] }
                """.formatted(NEW, OLD), name -> null);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RegionMetrics metrics = new RegionMetrics(registry, "us-east");
        MockProducer<String, byte[]> dlq = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        RegionDeadLetters deadLetters = new RegionDeadLetters(dlq, "lethe.dlq", "us-east", metrics, Clock.systemUTC());
        Admission admission = new Admission(config, metrics::unsignedDelete);
        admission.replayFloor(new ReplayFloor(() -> 1), r -> {
        }, r -> {
        });

        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        records.add(watermark(0, 1_000, NEW)); // a floor below everything that follows
        records.add(upsert(1, 1_500, OLD)); // from a streams instance not yet restarted on NEW
        records.add(upsert(2, 1_600, NEW));
        records.add(upsert(3, 1_700, THIRD)); // a forger's
        records.add(watermark(4, 2_000, OLD));
        records.add(watermark(5, 900_000_000_000L, THIRD)); // a forged ceiling: not merged
        Admission.Admitted admitted = admission.admit(new ConsumerRecords<>(Map.of(new TopicPartition(TOPIC, 0), records), Map.of()),
                deadLetters);

        assertEquals(List.of(Action.UPSERT, Action.UPSERT), admitted.events().stream().map(InvalidationEvent::action).toList(),
                "the upserts signed with the previous and the current key are applied as upserts");
        assertEquals(List.of("1500", "1600"), admitted.events().stream().map(InvalidationEvent::version).toList());
        assertEquals(List.of(1_000L, 2_000L), admitted.watermarks().get(0).stream().map(Watermark::lsn).toList(),
                "the watermark signed with the previous key is merged; the third key's is not");
        List<String> reasons = dlq.history().stream()
                .map(r -> new String(r.headers().lastHeader(Headers.DLQ_REASON).value(), StandardCharsets.UTF_8)).toList();
        assertEquals(List.of("untrusted-record", "untrusted-watermark"), reasons, "only the third key's record and watermark");
    }

    @Test
    void theCeilingRisesWithAWatermarkSignedWithThePreviousKey() {
        LetheConfig config = ConfigLoader.parse("unit.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                streams: { watermark-key: %s, previous-watermark-key: %s }
                apply: { max-lsn-lead-mib: 1 }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  price: { table: public.prices, keys: ["price:{id}"], mode: upsert, payload-columns: [price] }
                """.formatted(NEW, OLD), name -> null);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RegionMetrics metrics = new RegionMetrics(registry, "us-east");
        MockProducer<String, byte[]> dlq = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        RegionDeadLetters deadLetters = new RegionDeadLetters(dlq, "lethe.dlq", "us-east", metrics, Clock.systemUTC());
        Admission admission = new Admission(config, metrics::unsignedDelete);
        admission.replayFloor(new ReplayFloor(() -> 1), r -> {
        }, r -> {
        });
        long mib = 1L << 20;

        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        records.add(watermark(0, 1_000, NEW));
        records.add(watermark(1, 10 * mib, OLD)); // raises the ceiling to 11 MiB
        records.add(upsert(2, 10 * mib + 500, NEW)); // in range only under the OLD-signed watermark
        Admission.Admitted admitted = admission.admit(new ConsumerRecords<>(Map.of(new TopicPartition(TOPIC, 0), records), Map.of()),
                deadLetters);

        assertEquals(List.of(Action.UPSERT), admitted.events().stream().map(InvalidationEvent::action).toList(),
                "the watermark signed with the previous key raised the ceiling: " + dlq.history().stream()
                        .map(r -> new String(r.headers().lastHeader(Headers.DLQ_REASON).value(), StandardCharsets.UTF_8)).toList());
        assertEquals(0, dlq.history().size());
    }

    private static ConsumerRecord<String, byte[]> upsert(long offset, long lsn, String key) {
        InvalidationEvent e = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "c" + offset, "price", Scope.ROW, "price:1", null,
                Action.UPSERT, "{\"price\":" + offset + "}", Long.toString(lsn), lsn, 7L, 1, 1, 1, null, Op.UPDATE, "c" + offset, null,
                lsn + 1);
        byte[] value = EventJson.write(e);
        RecordHeaders headers = new RecordHeaders();
        headers.add(Headers.HOLDS, PRICE_HOLDS.getBytes(StandardCharsets.UTF_8));
        new RecordSignature(key.getBytes(StandardCharsets.UTF_8)).addTo(headers, e.target(), value);
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, e.target(), value, headers, Optional.empty());
    }

    private static ConsumerRecord<String, byte[]> watermark(long offset, long lsn, String key) {
        RecordHeaders headers = new RecordHeaders();
        new Watermark(1_000_000 + offset, lsn, 0, "h").writeTo(headers, key.getBytes(StandardCharsets.UTF_8), null);
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, Watermark.KEY, new byte[0], headers,
                Optional.empty());
    }
}
