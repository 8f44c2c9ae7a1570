package io.lethe.stage.dlq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class DeadLetterTest {
    private static String header(ProducerRecord<String, byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @Test
    void carriesTheOriginalAndEveryHeader() {
        byte[] value = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        ProducerRecord<String, byte[]> r = DeadLetter.of("region:us-east", DlqReason.REDIS_WRONGTYPE, "key k: WRONGTYPE")
                .original("k", value).source("lethe.invalidations.us-east", 2, 41).exception(new IllegalStateException()).at(1234)
                .toRecord("lethe.dlq");
        assertEquals("lethe.dlq", r.topic());
        assertEquals("k", r.key());
        assertArrayEquals(value, r.value());
        for (String name : Headers.DLQ_SET) {
            org.junit.jupiter.api.Assertions.assertNotNull(header(r, name), name);
        }
        assertEquals("redis-wrongtype", header(r, Headers.DLQ_REASON));
        assertEquals("2", header(r, Headers.DLQ_SOURCE_PARTITION));
        assertEquals("1234", header(r, Headers.DLQ_TIMESTAMP));
        assertEquals(IllegalStateException.class.getName(), header(r, Headers.DLQ_EXCEPTION));
        assertNull(header(r, Headers.DLQ_TRUNCATED));
    }

    @Test
    void aValueTooLargeForTheDlqIsCutAndSaysSo() {
        byte[] value = new byte[3 * 1024 * 1024];
        ProducerRecord<String, byte[]> r = DeadLetter.of("capture", DlqReason.RECORD_TOO_LARGE, "too large").original("k", value)
                .toRecord("lethe.dlq");
        assertEquals(DeadLetter.MAX_VALUE_BYTES, r.value().length);
        assertEquals(Integer.toString(value.length), header(r, Headers.DLQ_TRUNCATED));
    }

    @Test
    void severalReasonsAreCommaSeparated() {
        ProducerRecord<String, byte[]> r = DeadLetter.of("streams", List.of(DlqReason.MISSING_COLUMN, DlqReason.KEY_TOO_LONG), "two")
                .toRecord("lethe.dlq");
        assertEquals("missing-column,key-too-long", header(r, Headers.DLQ_REASON));
    }
}
