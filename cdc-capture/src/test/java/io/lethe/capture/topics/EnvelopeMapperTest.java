package io.lethe.capture.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.capture.mapping.ChangeEventMapper.UnmappableRecordException;
import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

/**
 * The envelope an existing connector writes through JsonConverter, built here with Connect's own
 * classes (as Debezium's connector builds it) and serialized by the converter, with and without
 * schemas, mapped to Lethe's change event.
 */
class EnvelopeMapperTest {
    private static final String TOPIC = "dbz.public.items";
    private static final SourceTable ITEMS = new SourceTable("shop", "public", "items");

    private static LetheConfig config(String topicsYaml) {
        return ConfigLoader.parse("t.yml", """
                source:
                  jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop"
                  user: lethe
                  mode: debezium-topics
                  debezium-topics: %s
                kafka: { bootstrap-servers: "127.0.0.1:9092" }
                regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
                namespaces:
                  item: { table: public.items, keys: ["item:{id}:{name}"] }
                """.formatted(topicsYaml), System::getenv);
    }

    private static EnvelopeMapper mapper(LetheConfig config) {
        return new EnvelopeMapper(ChangeEventMapper.forForeignConnector(ColumnProjection.of(config), null, Clock.systemUTC(),
                config.source().debeziumTopics().unavailablePlaceholder()), config.source().debeziumTopics());
    }

    private static Schema row(boolean sourceTypes) {
        SchemaBuilder name = SchemaBuilder.string().optional();
        if (sourceTypes) {
            name.parameter("__debezium.source.column.type", "TEXT");
        }
        return SchemaBuilder.struct().name("dbz.public.items.Value").optional()
                .field("id", Schema.INT32_SCHEMA).field("name", name.build()).field("price", Schema.OPTIONAL_INT32_SCHEMA).build();
    }

    private static final Schema SOURCE = SchemaBuilder.struct().name("io.debezium.connector.postgresql.Source")
            .field("db", Schema.STRING_SCHEMA).field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA)
            .field("txId", Schema.OPTIONAL_INT64_SCHEMA).field("lsn", Schema.OPTIONAL_INT64_SCHEMA).field("ts_ms", Schema.INT64_SCHEMA)
            .build();
    private static final Schema KEY = SchemaBuilder.struct().name("dbz.public.items.Key").field("id", Schema.INT32_SCHEMA).build();

    /** An UPDATE of item 7 (name 'n7' -> after, price 70 -> 71) at LSN 5000, as JsonConverter writes it. */
    private static byte[][] update(boolean schemas, boolean sourceTypes, String afterName) {
        Schema row = row(sourceTypes);
        Schema envelope = SchemaBuilder.struct().name("dbz.public.items.Envelope").field("before", row).field("after", row)
                .field("source", SOURCE).field("op", Schema.STRING_SCHEMA).field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();
        Struct value = new Struct(envelope)
                .put("before", new Struct(row).put("id", 7).put("name", "n7").put("price", 70))
                .put("after", new Struct(row).put("id", 7).put("name", afterName).put("price", 71))
                .put("source", new Struct(SOURCE).put("db", "shop").put("schema", "public").put("table", "items").put("txId", 900L)
                        .put("lsn", 5000L).put("ts_ms", 1_700_000_000_000L))
                .put("op", "u");
        JsonConverter json = new JsonConverter();
        json.configure(Map.of("schemas.enable", Boolean.toString(schemas)), false);
        JsonConverter keys = new JsonConverter();
        keys.configure(Map.of("schemas.enable", Boolean.toString(schemas)), true);
        return new byte[][] {keys.fromConnectData(TOPIC, KEY, new Struct(KEY).put("id", 7)), json.fromConnectData(TOPIC, envelope, value)};
    }

    private static ChangeEvent map(EnvelopeMapper mapper, byte[][] record) {
        return mapper.map(TOPIC, 0, record[0], record[1], ITEMS).orElseThrow();
    }

    @Test
    void anUpdateWithSchemasIsLethesChangeAtItsLsn() {
        ChangeEvent e = map(mapper(config("{ topic-prefix: dbz }")), update(true, true, "n7b"));
        assertEquals(Op.UPDATE, e.op());
        assertEquals("5000", e.version());
        assertEquals(5000L, e.lsn());
        assertEquals(900L, e.txId());
        assertEquals(1_700_000_000_000_000L, e.commitTs());
        assertEquals(null, e.commitLsn(), "no commit LSN in this mode");
        assertEquals(Map.of("id", 7), e.key());
        assertEquals("n7", e.before().get("name"));
        assertEquals("n7b", e.after().get("name"));
        // the key-template columns as PostgreSQL prints them: id is an integer, name's type the connector named
        assertEquals(Map.of("id", "7"), e.text().key());
        assertEquals("n7", e.text().before().get("name"));
        assertEquals("n7b", e.text().after().get("name"));
    }

    @Test
    void aStringWhoseTypeTheConnectorDoesNotNameHasNoKeyText() {
        // text, char(n), inet and numeric all arrive as strings and print differently: the keys are invalidated by glob
        ChangeEvent e = map(mapper(config("{ topic-prefix: dbz }")), update(true, false, "n7b"));
        assertEquals(ChangeEvent.UNRENDERABLE_VALUE, e.text().after().get("name"));
        assertEquals("7", e.text().after().get("id"), "an integer says its type");
    }

    @Test
    void withoutSchemasTheKeyTextIsUnknown() {
        ChangeEvent e = map(mapper(config("{ topic-prefix: dbz, schemas: false }")), update(false, true, "n7b"));
        assertEquals(Op.UPDATE, e.op());
        assertEquals("5000", e.version());
        assertEquals("n7b", e.after().get("name"));
        assertEquals(ChangeEvent.UNRENDERABLE_VALUE, e.text().after().get("name"));
        assertEquals(ChangeEvent.UNRENDERABLE_VALUE, e.text().key().get("id"));
    }

    @Test
    void theConnectorsToastPlaceholderIsAnUnknownValue() {
        for (boolean schemas : new boolean[] {true, false}) {
            ChangeEvent e = map(mapper(config("{ topic-prefix: dbz, schemas: " + schemas + " }")),
                    update(schemas, true, "__debezium_unavailable_value"));
            assertEquals(ChangeEvent.UNAVAILABLE_VALUE, e.after().get("name"), "schemas " + schemas);
            assertEquals(ChangeEvent.UNAVAILABLE_VALUE, e.text().after().get("name"), "schemas " + schemas);
        }
        ChangeEvent custom = map(mapper(config("{ topic-prefix: dbz, unavailable-value-placeholder: '??toast??' }")),
                update(true, true, "??toast??"));
        assertEquals(ChangeEvent.UNAVAILABLE_VALUE, custom.after().get("name"), "the configured placeholder");
        ChangeEvent notIt = map(mapper(config("{ topic-prefix: dbz, unavailable-value-placeholder: '??toast??' }")),
                update(true, true, "__debezium_unavailable_value"));
        assertEquals("__debezium_unavailable_value", notIt.after().get("name"), "Debezium's default is a value when another is configured");
    }

    @Test
    void whatIsNotAChangeEnvelopeIsRefusedWithWhy() {
        EnvelopeMapper mapper = mapper(config("{ topic-prefix: dbz }"));
        byte[] key = update(true, true, "x")[0];
        UnmappableRecordException notConnect = assertThrows(UnmappableRecordException.class,
                () -> mapper.map(TOPIC, 0, key, "{\"not\":\"an envelope\"}".getBytes(StandardCharsets.UTF_8), ITEMS));
        assertTrue(notConnect.getMessage().contains("not a JsonConverter record with schemas"), notConnect.getMessage());
        UnmappableRecordException notJson = assertThrows(UnmappableRecordException.class,
                () -> mapper.map(TOPIC, 0, key, "{oops".getBytes(StandardCharsets.UTF_8), ITEMS));
        assertTrue(notJson.getMessage().startsWith("not a JsonConverter record"), notJson.getMessage());
        UnmappableRecordException noOp = assertThrows(UnmappableRecordException.class,
                () -> mapper.map(TOPIC, 0, key,
                        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"field\":\"a\",\"type\":\"int32\"}]},\"payload\":{\"a\":1}}"
                                .getBytes(StandardCharsets.UTF_8),
                        ITEMS));
        assertTrue(noOp.getMessage().contains("no op or no source"), noOp.getMessage());
        UnmappableRecordException otherTable = assertThrows(UnmappableRecordException.class,
                () -> mapper.map(TOPIC, 0, key, update(true, true, "x")[1], new SourceTable("shop", "public", "orders")));
        assertTrue(otherTable.getMessage().contains("a change of public.items on the topic of public.orders"), otherTable.getMessage());
        assertEquals(Optional.empty(), mapper.map(TOPIC, 0, key, null, ITEMS), "a tombstone is no change");
    }
}
