package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** Dead letters never block the loop, and offsets wait for their acknowledgement (MockProducer, no broker). */
class RegionDeadLettersTest {
    private final MockProducer<String, byte[]> producer = new MockProducer<>(false, null, new StringSerializer(),
            new ByteArraySerializer());
    private final RegionDeadLetters letters = new RegionDeadLetters(producer, "lethe.dlq", "us-east",
            new RegionMetrics(new SimpleMeterRegistry(), "us-east"), Clock.systemUTC());
    private final ConsumerRecord<String, byte[]> record = new ConsumerRecord<>("lethe.invalidations.us-east", 2, 41, "product:1",
            "{not json".getBytes(StandardCharsets.UTF_8));

    @Test
    void sendReturnsAtOnceAndSettlesOnlyWhenKafkaAcknowledged() {
        letters.send(record, DlqReason.MALFORMED, "not JSON", null);
        assertEquals(1, producer.history().size(), "handed to the producer");
        assertFalse(letters.settled(), "not acknowledged yet: offsets must wait");
        producer.completeNext();
        assertTrue(letters.settled());
        var out = producer.history().get(0);
        assertEquals("malformed", new String(out.headers().lastHeader(Headers.DLQ_REASON).value(), StandardCharsets.UTF_8));
        assertEquals("41", new String(out.headers().lastHeader(Headers.DLQ_SOURCE_OFFSET).value(), StandardCharsets.UTF_8));
        assertEquals("region:us-east", new String(out.headers().lastHeader(Headers.DLQ_STAGE).value(), StandardCharsets.UTF_8));
        assertEquals("{not json", new String(out.value(), StandardCharsets.UTF_8), "the original bytes, replayable");
    }

    @Test
    void aFailedWriteIsSentAgainAndStaysUnsettledUntilThen() throws Exception {
        letters.send(record, DlqReason.MALFORMED, "not JSON", null);
        producer.errorNext(new TimeoutException("broker away"));
        assertFalse(letters.settled(), "the failed write is sent again, not forgotten");
        assertEquals(2, producer.history().size());
        producer.completeNext();
        assertTrue(letters.settled());
        assertTrue(letters.flush(Duration.ofSeconds(1)));
    }
}
