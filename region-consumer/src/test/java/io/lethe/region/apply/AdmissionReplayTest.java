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
 * Admission with a replay floor (issue 34): in one poll, a validly signed upsert the partition's
 * heartbeats have passed is admitted as the delete at its version and counted, and so is one read
 * before the partition has a floor at all; one committed after the heartbeats stays an upsert; an unsigned one is still refused as untrusted-record, not turned into a delete.
 */
class AdmissionReplayTest {
    private static final String TOPIC = "lethe.invalidations";
    private static final String KEY = "a-watermark-key-of-32-characters";

    @Test
    void aSignedUpsertBelowItsPartitionsFloorIsAdmittedAsADeleteAndCounted() {
        LetheConfig config = ConfigLoader.parse("unit.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                streams: { watermark-key: %s }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  price: { table: public.prices, keys: ["price:{id}"], mode: upsert, payload-columns: [price] }
                """.formatted(KEY), name -> null);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RegionMetrics metrics = new RegionMetrics(registry, "us-east");
        MockProducer<String, byte[]> dlq = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        RegionDeadLetters deadLetters = new RegionDeadLetters(dlq, "lethe.dlq", "us-east", metrics, Clock.systemUTC());
        Admission admission = new Admission(config, metrics::unsignedDelete);
        List<Long> replayedOffsets = new ArrayList<>();
        List<Long> noFloorOffsets = new ArrayList<>();
        admission.replayFloor(new ReplayFloor(() -> 1), r -> replayedOffsets.add(r.offset()), r -> noFloorOffsets.add(r.offset()));
        RecordSignature signature = new RecordSignature(KEY.getBytes(StandardCharsets.UTF_8));

        // stamped as streams on this configuration stamps them (AdmissionHoldsTest: otherwise a delete for that reason)
        String holds = config.namespaces().get("price").holdsFingerprint();
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        records.add(upsert(0, 1_000, signature, holds)); // before any heartbeat: no floor yet, nothing tells it from a copy: a delete
        records.add(watermark(1, 2_000));
        records.add(upsert(2, 1_500, signature, holds)); // committed before the heartbeat at 2000: a copy
        records.add(upsert(3, 2_500, signature, holds)); // after it: new
        records.add(upsert(4, 1_200, null, holds)); // unsigned: refused, whatever its age
        Admission.Admitted admitted = admission.admit(new ConsumerRecords<>(Map.of(new TopicPartition(TOPIC, 0), records), Map.of()),
                deadLetters);

        List<Action> actions = admitted.events().stream().map(InvalidationEvent::action).toList();
        assertEquals(List.of(Action.DELETE, Action.DELETE, Action.UPSERT), actions);
        assertEquals("1000", admitted.events().get(0).version(), "the delete at the unproven upsert's own version");
        assertEquals("1500", admitted.events().get(1).version(), "the delete at the copy's own version");
        assertEquals(List.of(2L), replayedOffsets);
        assertEquals(List.of(0L), noFloorOffsets);
        assertEquals(1, dlq.history().size(), "the unsigned upsert is dead-lettered");
        assertEquals("untrusted-record", new String(dlq.history().get(0).headers().lastHeader(Headers.DLQ_REASON).value(),
                StandardCharsets.UTF_8));
    }

    private static ConsumerRecord<String, byte[]> upsert(long offset, long lsn, RecordSignature signature, String holds) {
        InvalidationEvent e = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "c" + offset, "price", Scope.ROW, "price:1", null,
                Action.UPSERT, "{\"price\":" + offset + "}", Long.toString(lsn), lsn, 7L, 1, 1, 1, null, Op.UPDATE, "c" + offset, null,
                lsn + 1);
        byte[] value = EventJson.write(e);
        RecordHeaders headers = new RecordHeaders();
        headers.add(Headers.HOLDS, holds.getBytes(StandardCharsets.UTF_8));
        if (signature != null) {
            signature.addTo(headers, e.target(), value);
        }
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, e.target(), value, headers, Optional.empty());
    }

    private static ConsumerRecord<String, byte[]> watermark(long offset, long lsn) {
        RecordHeaders headers = new RecordHeaders();
        new Watermark(1_000_000, lsn, 0, "h").writeTo(headers, KEY.getBytes(StandardCharsets.UTF_8), null);
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, Watermark.KEY, new byte[0], headers,
                Optional.empty());
    }
}
