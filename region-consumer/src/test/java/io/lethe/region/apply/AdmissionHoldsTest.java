package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
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
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * An upsert rendered under another configuration's rules for its namespace: the region moved
 * {@code price} from {@code lsn} to {@code column:ver}, and a streams instance still on the old file
 * sends an upsert at an LSN (stamped with the old file's {@code lethe.holds}); one of an older release
 * carries no stamp. Both are admitted as the delete at their own version and dead-lettered as
 * {@code foreign-holds}; an upsert stamped with this configuration's fingerprint stays an upsert.
 */
class AdmissionHoldsTest {
    private static final String TOPIC = "lethe.invalidations";
    private static final String YAML = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9" }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              price: { table: public.prices, keys: ["price:{id}"], mode: upsert, payload-columns: [price]%s }
            """;
    private final LetheConfig byColumn = ConfigLoader.parse("new.yml", YAML.formatted(", version: column:ver"), name -> null);
    private final LetheConfig byLsn = ConfigLoader.parse("old.yml", YAML.formatted(""), name -> null);
    private final MockProducer<String, byte[]> dlq = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final RegionDeadLetters deadLetters = new RegionDeadLetters(dlq, "lethe.dlq", "us-east",
            new RegionMetrics(new SimpleMeterRegistry(), "us-east"), Clock.systemUTC());

    private Admission admission(List<DlqReason> compared, Optional<String> markerSays) {
        Admission admission = new Admission(byColumn);
        admission.replayFloor(new ReplayFloor(() -> 1), r -> {
        }, r -> {
        });
        admission.holdOnSkew(refusal -> {
            compared.add(refusal.reason());
            return markerSays;
        });
        return admission;
    }

    @Test
    void anUpsertStampedByAnotherConfigurationOrNotAtAllIsAdmittedAsTheDeleteAtItsVersionAndDeadLettered() {
        String mine = byColumn.namespaces().get("price").holdsFingerprint();
        String old = byLsn.namespaces().get("price").holdsFingerprint();
        assertNotEquals(mine, old, "another version source: other holds");
        List<DlqReason> compared = new ArrayList<>();
        Admission admission = admission(compared, Optional.empty()); // the marker records this instance's configuration

        Admission.Admitted admitted = admission.admit(batch(watermark(0, 500), upsert(1, "price:1", 1_000, old),
                upsert(2, "price:2", 1_100, null), upsert(3, "price:3", 1_200, mine), delete(4, "price:4", 1_300)), deadLetters);

        assertEquals(List.of("price:1", "price:2", "price:3", "price:4"),
                admitted.events().stream().map(InvalidationEvent::target).toList());
        assertEquals(List.of(Action.DELETE, Action.DELETE, Action.UPSERT, Action.DELETE),
                admitted.events().stream().map(InvalidationEvent::action).toList(),
                "an upsert of the old file (an LSN in a column:ver namespace) or without a stamp: a delete; a matching one: an upsert");
        assertEquals("1000", admitted.events().get(0).version(), "the delete at the foreign upsert's own version");
        assertEquals("1100", admitted.events().get(1).version());
        assertEquals(List.of(1L, 2L), dlq.history().stream().map(AdmissionHoldsTest::sourceOffset).toList(),
                "both dead-lettered for audit; the matching upsert and the delete are not");
        dlq.history().forEach(d -> assertEquals(DlqReason.FOREIGN_HOLDS.code(), header(d, Headers.DLQ_REASON)));
        assertEquals(List.of(DlqReason.FOREIGN_HOLDS), compared, "the marker compared once for the batch");
    }

    @Test
    void anInstanceWhoseViewDiffersFromTheMarkerHoldsTheBatchInsteadOfDeleting() {
        // this instance runs new.yml; the marker records another file, whose streams stamps what this file does not
        List<DlqReason> compared = new ArrayList<>();
        Admission admission = admission(compared, Optional.of("the marker records another configuration"));
        String other = byLsn.namespaces().get("price").holdsFingerprint();
        assertThrows(MarkerView.Held.class, () -> admission.admit(batch(watermark(0, 500), upsert(1, "price:1", 1_000, other)),
                deadLetters));
        assertEquals(List.of(DlqReason.FOREIGN_HOLDS), compared);
        assertEquals(0, dlq.history().size(), "nothing of a held batch is dead-lettered");
    }

    @SafeVarargs
    private static ConsumerRecords<String, byte[]> batch(ConsumerRecord<String, byte[]>... records) {
        return new ConsumerRecords<>(Map.of(new TopicPartition(TOPIC, 0), List.of(records)), Map.of());
    }

    private static ConsumerRecord<String, byte[]> upsert(long offset, String key, long lsn, String holds) {
        InvalidationEvent e = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "c" + offset, "price", Scope.ROW, key, null,
                Action.UPSERT, "{\"price\":" + offset + "}", Long.toString(lsn), lsn, 7L, 1, 1, 1, null, Op.UPDATE, "c" + offset, null,
                lsn + 1);
        RecordHeaders headers = new RecordHeaders();
        if (holds != null) {
            headers.add(Headers.HOLDS, holds.getBytes(StandardCharsets.UTF_8));
        }
        return record(offset, e, headers);
    }

    private static ConsumerRecord<String, byte[]> delete(long offset, String key, long lsn) {
        InvalidationEvent e = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "c" + offset, "price", Scope.ROW, key, null,
                Action.DELETE, null, Long.toString(lsn), lsn, 7L, 1, 1, 1, null, Op.UPDATE, "c" + offset, null, lsn + 1);
        return record(offset, e, new RecordHeaders());
    }

    private static ConsumerRecord<String, byte[]> record(long offset, InvalidationEvent e, RecordHeaders headers) {
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, e.target(), EventJson.write(e), headers,
                Optional.empty());
    }

    private static ConsumerRecord<String, byte[]> watermark(long offset, long lsn) {
        RecordHeaders headers = new RecordHeaders();
        new Watermark(1_000_000, lsn, 0).writeTo(headers);
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, Watermark.KEY, new byte[0], headers,
                Optional.empty());
    }

    private static long sourceOffset(ProducerRecord<String, byte[]> deadLetter) {
        return Long.parseLong(header(deadLetter, Headers.DLQ_SOURCE_OFFSET));
    }

    private static String header(ProducerRecord<String, byte[]> r, String name) {
        return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }
}
