package io.lethe.capture.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.schemas.ChangeEvent;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.junit.jupiter.api.Test;

/**
 * The decisions of {@link ConnectText} that do not need a server: what it refuses to guess.
 * KeyRenderingIT checks the renderings against PostgreSQL itself.
 */
class ConnectTextTest {
    private static Schema typed(SchemaBuilder builder, String sourceType) {
        return builder.parameter(ConnectText.SOURCE_TYPE, sourceType).optional().build();
    }

    @Test
    void whatCannotBeRebuiltExactlyIsUnrenderableNeverGuessed() {
        String u = ChangeEvent.UNRENDERABLE_VALUE;
        // a column retyped while capture runs: the encodings of refused types
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.int64().name("io.debezium.time.MicroDuration"), "INTERVAL"), 1_000_000L));
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.string().name("io.debezium.time.ZonedTime"), "TIMETZ"), "18:30:00Z"));
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.string(), "MONEY"), "1234.56"));
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.bytes().name("io.debezium.data.Bits").parameter("length", "3"), "VARBIT"),
                new byte[] {5}));
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.array(Schema.OPTIONAL_INT32_SCHEMA), "_INT4"), List.of(1, 2)));
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA), "HSTORE"), Map.of("a", "b")));
        // bits that do not fit the declared length, a timestamp whose microseconds overflowed
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.bytes().name("io.debezium.data.Bits").parameter("length", "4"), "BIT"),
                new byte[] {(byte) 0xff}));
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp"), "TIMESTAMP"),
                -9_000_000_000_000_000_000L));
        // bytes of another type than bytea
        assertEquals(u, ConnectText.of(typed(SchemaBuilder.bytes(), "TSVECTOR"), new byte[] {1}));
    }

    @Test
    void nullIsNullAndTheAmbiguousTypesUseTheSourceType() {
        assertEquals(null, ConnectText.of(typed(SchemaBuilder.string(), "TEXT"), null));
        assertEquals("1", ConnectText.of(typed(SchemaBuilder.bool(), "BIT"), true));
        assertEquals("true", ConnectText.of(typed(SchemaBuilder.bool(), "BOOL"), true));
        assertEquals("ab", ConnectText.of(typed(SchemaBuilder.string(), "BPCHAR"), "ab   "));
        assertEquals("ab   ", ConnectText.of(typed(SchemaBuilder.string(), "TEXT"), "ab   "));
        assertEquals("10.0.0.1/32", ConnectText.of(typed(SchemaBuilder.string(), "INET"), "10.0.0.1"));
        assertEquals("10.0.0.1", ConnectText.of(typed(SchemaBuilder.string(), "TEXT"), "10.0.0.1"));
        assertEquals("NaN", ConnectText.of(typed(SchemaBuilder.string(), "NUMERIC"), "NAN"));
        assertEquals("NAN", ConnectText.of(typed(SchemaBuilder.string(), "TEXT"), "NAN"));
        assertEquals("0011", ConnectText.of(typed(SchemaBuilder.bytes().name("io.debezium.data.Bits").parameter("length", "4"), "BIT"),
                new byte[] {3}));
    }
}
