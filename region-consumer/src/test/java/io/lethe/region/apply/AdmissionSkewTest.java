package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Action;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.serde.EventJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
 * A record another configuration explains (a namespace this file lacks, say) makes the region compare its
 * view with the marker in Redis ({@link MarkerView#onRefusal}): once a poll batch, not once a record, so a
 * flood of such records (forged, or a whole backlog of another configuration's) reads the marker once a
 * batch; a difference holds the whole batch.
 */
class AdmissionSkewTest {
    private static final String TOPIC = "lethe.invalidations";
    private final LetheConfig config = ConfigLoader.parse("unit.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9" }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              product: { table: public.products, keys: ["product:{id}"] }
            """, name -> null);
    private final MockProducer<String, byte[]> dlq = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
    private final RegionDeadLetters deadLetters = new RegionDeadLetters(dlq, "lethe.dlq", "us-east",
            new RegionMetrics(new SimpleMeterRegistry(), "us-east"), Clock.systemUTC());

    @Test
    void aBatchOfRecordsAnotherConfigurationExplainsReadsTheMarkerOnce() {
        Admission admission = new Admission(config);
        List<DlqReason> compared = new ArrayList<>();
        admission.holdOnSkew(refusal -> {
            compared.add(refusal.reason());
            return Optional.empty(); // the marker records this instance's configuration: plain refusals
        });
        Admission.Admitted admitted = admission.admit(batch(event(0, "order", "order:1"), event(1, "order", "order:2"),
                event(2, "product", "product:1"), event(3, "order", "order:3")), deadLetters);

        assertEquals(List.of(DlqReason.UNKNOWN_NAMESPACE), compared, "one comparison for the batch");
        assertEquals(3, dlq.history().size(), "each refused record is dead-lettered with its reason");
        assertEquals(List.of("product:1"), admitted.events().stream().map(InvalidationEvent::target).toList());
    }

    @Test
    void aDifferenceHoldsTheBatch() {
        Admission admission = new Admission(config);
        admission.holdOnSkew(refusal -> Optional.of("the marker records another configuration"));
        assertThrows(MarkerView.Held.class, () -> admission.admit(batch(event(0, "product", "product:1"), event(1, "order", "order:1")),
                deadLetters));
        assertEquals(0, dlq.history().size(), "nothing of a held batch is dead-lettered");
    }

    @SafeVarargs
    private static ConsumerRecords<String, byte[]> batch(ConsumerRecord<String, byte[]>... records) {
        return new ConsumerRecords<>(Map.of(new TopicPartition(TOPIC, 0), List.of(records)), Map.of());
    }

    private static ConsumerRecord<String, byte[]> event(long offset, String namespace, String key) {
        long lsn = 1_000 + offset;
        InvalidationEvent e = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "c" + offset, namespace, Scope.ROW, key, null,
                Action.DELETE, null, Long.toString(lsn), lsn, 7L, 1, 1, 1, null, Op.UPDATE, "c" + offset, null, lsn + 1);
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, key, EventJson.write(e), new RecordHeaders(),
                Optional.empty());
    }
}
