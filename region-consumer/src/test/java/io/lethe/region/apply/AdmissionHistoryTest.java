package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.RecordSignature;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
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
 * After a switch to a source whose LSNs are far ahead of the old one's (another cluster, a blue/green switch), with
 * {@code streams.watermark-key}: the signed reset of every namespace and the new history's signed changes before its
 * first watermark are applied, not refused against the old history's watermarks; unsigned records far ahead are still
 * refused, and so are signed ones beyond the new history's own watermark by more than the lead.
 */
class AdmissionHistoryTest {
    private static final String TOPIC = "lethe.invalidations";
    private static final long MIB = 1L << 20;
    private static final String KEY = "a-watermark-key-of-32-characters";

    @Test
    void aNewHistoryFarAheadIsNotRefusedAgainstTheOldOnesWatermarks() {
        LetheConfig config = ConfigLoader.parse("unit.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                apply: { max-lsn-lead-mib: 1 }
                streams: { watermark-key: %s }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  item: { table: public.items, keys: ["item:{id}"] }
                """.formatted(KEY), name -> null);
        RegionMetrics metrics = new RegionMetrics(new SimpleMeterRegistry(), "us-east");
        MockProducer<String, byte[]> dlq = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        RegionDeadLetters deadLetters = new RegionDeadLetters(dlq, "lethe.dlq", "us-east", metrics, Clock.systemUTC());
        Admission admission = new Admission(config);
        long ahead = 1_000 + 8 * MIB; // the new source's positions: 8 MiB beyond the old one's, the lead allows 1

        List<ConsumerRecord<String, byte[]>> records = List.of(
                watermark(0, 1_000, "7000000000000000001/1"),
                record(1, reset(ahead)), // capture's reset of every namespace after the history changed, at an LSN read then
                record(2, delete(ahead + 100)), // the new history's first change, before its first watermark
                watermark(3, ahead + 200, "7000000000000000002/1"),
                watermark(4, 1_000, "7000000000000000001/1"), // the old history's, still on its way from another partition
                record(5, delete(ahead + 300)),
                record(6, delete(ahead + 300 + 2 * MIB)), // beyond the new history's own watermark by more than the lead
                unsigned(7, delete(ahead + 400)), // within the lead of the new history's watermark: an unsigned delete, applied
                unsigned(8, reset(ahead + 50 * MIB))); // a forged reset far ahead: refused, and it lifts nothing
        Admission.Admitted admitted = admission.admit(new ConsumerRecords<>(Map.of(new TopicPartition(TOPIC, 0), records), Map.of()),
                deadLetters);

        assertEquals(List.of(ahead, ahead + 100, ahead + 300, ahead + 400),
                admitted.events().stream().map(InvalidationEvent::lsn).toList(),
                "applied: " + dlq.history().stream().map(r -> new String(r.headers().lastHeader("lethe.dlq.error").value())).toList());
        assertEquals(2, dlq.history().size(), "the ceiling holds within the new history, and for a forged reset");
    }

    @Test
    void aSignedManualPurgeStaysUnderTheCeilingWhileItIsLifted() {
        LetheConfig config = ConfigLoader.parse("unit.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                apply: { max-lsn-lead-mib: 1 }
                streams: { watermark-key: %s }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  item: { table: public.items, keys: ["item:{id}"] }
                """.formatted(KEY), name -> null);
        RegionMetrics metrics = new RegionMetrics(new SimpleMeterRegistry(), "us-east");
        MockProducer<String, byte[]> dlq = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        RegionDeadLetters deadLetters = new RegionDeadLetters(dlq, "lethe.dlq", "us-east", metrics, Clock.systemUTC());
        long ahead = 1_000 + 8 * MIB;
        // streams signs the purges any application requests: the LSN is the application's choice, so a purge far ahead
        // would be merged into the wide watermark (every later upsert a delete) if the lift let it through
        InvalidationEvent manual = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "manual:1", "item", Scope.ROW, "item:1", null,
                Action.DELETE, null, Long.toString(ahead + 50 * MIB), ahead + 50 * MIB, null, 1, 1, 1, null, Op.MANUAL, null, null, null);
        List<ConsumerRecord<String, byte[]>> records = List.of(watermark(0, 1_000, "7000000000000000001/1"), record(1, reset(ahead)),
                record(2, manual));
        Admission.Admitted admitted = new Admission(config)
                .admit(new ConsumerRecords<>(Map.of(new TopicPartition(TOPIC, 0), records), Map.of()), deadLetters);

        assertEquals(List.of(ahead), admitted.events().stream().map(InvalidationEvent::lsn).toList(), "the reset only");
        assertEquals(1, dlq.history().size(), "the manual purge beyond the ceiling is refused, lifted or not");
        assertEquals("version-out-of-range", new String(dlq.history().get(0).headers().lastHeader("lethe.dlq.reason").value()));
    }

    private static InvalidationEvent reset(long lsn) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "history:" + lsn, "item", Scope.NAMESPACE, null, "item:*",
                Action.DELETE, null, Versions.MAX, lsn, null, 1, 1, 1, null, Op.RESET, null, null, lsn);
    }

    private static InvalidationEvent delete(long lsn) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "c" + lsn, "item", Scope.ROW, "item:1", null, Action.DELETE, null,
                Long.toString(lsn), lsn, 7L, 1, 1, 1, null, Op.UPDATE, "c" + lsn, null, lsn + 1);
    }

    private static ConsumerRecord<String, byte[]> record(long offset, InvalidationEvent e) {
        byte[] value = EventJson.write(e);
        RecordHeaders headers = new RecordHeaders();
        new RecordSignature(KEY.getBytes(StandardCharsets.UTF_8)).addTo(headers, e.target(), value);
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, e.target(), value, headers, Optional.empty());
    }

    private static ConsumerRecord<String, byte[]> unsigned(long offset, InvalidationEvent e) {
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, e.target(), EventJson.write(e),
                new RecordHeaders(), Optional.empty());
    }

    private static ConsumerRecord<String, byte[]> watermark(long offset, long lsn, String history) {
        RecordHeaders headers = new RecordHeaders();
        new Watermark(1_000_000, lsn, 0, history).writeTo(headers, KEY.getBytes(StandardCharsets.UTF_8));
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, Watermark.KEY, new byte[0], headers,
                Optional.empty());
    }
}
