package io.lethe.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.lethe.schemas.serde.ChangeEventSerde;
import io.lethe.schemas.serde.EventJson;
import io.lethe.schemas.serde.InvalidationEventSerde;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The published contract: golden samples, the JSON Schema files and the records agree. */
class EventContractTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private static final Schema CHANGE = load(EventSchemas.CHANGE_V1);
    private static final Schema INVALIDATION = load(EventSchemas.INVALIDATION_V1);

    private static Schema load(String resource) {
        try (InputStream in = EventContractTest.class.getResourceAsStream(resource)) {
            return REGISTRY.getSchema(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Stream<String> changeSamples() {
        return Stream.of("change-insert", "change-update", "change-delete", "change-truncate", "change-reset");
    }

    static Stream<String> invalidationSamples() {
        return Stream.of("invalidation-row", "invalidation-derived", "invalidation-pattern", "invalidation-namespace",
                "invalidation-upsert", "invalidation-manual");
    }

    private static byte[] sample(String name) throws IOException {
        try (InputStream in = EventContractTest.class.getResourceAsStream("/samples/" + name + ".json")) {
            return in.readAllBytes();
        }
    }

    private static void assertValid(Schema schema, JsonNode node) {
        List<Error> errors = schema.validate(node);
        assertTrue(errors.isEmpty(), () -> "schema errors: " + errors + " in " + node);
    }

    @ParameterizedTest
    @MethodSource("changeSamples")
    void changeSamplesValidateAndRoundTrip(String name) throws IOException {
        byte[] bytes = sample(name);
        assertValid(CHANGE, JSON.readTree(bytes));
        ChangeEvent event = EventJson.readChange(bytes);
        JsonNode written = JSON.readTree(EventJson.write(event));
        assertEquals(JSON.readTree(bytes), written, "writing the record gives back the sample");
        assertValid(CHANGE, written);
    }

    @ParameterizedTest
    @MethodSource("invalidationSamples")
    void invalidationSamplesValidateAndRoundTrip(String name) throws IOException {
        byte[] bytes = sample(name);
        assertValid(INVALIDATION, JSON.readTree(bytes));
        InvalidationEvent event = EventJson.readInvalidation(bytes);
        JsonNode written = JSON.readTree(EventJson.write(event));
        assertEquals(JSON.readTree(bytes), written);
        assertValid(INVALIDATION, written);
    }

    @Test
    void recordsSerializedByTheSerdesValidate() throws IOException {
        ChangeEvent change = new ChangeEvent(ChangeEvent.SCHEMA_ID, "1:public.t", new SourceTable("db", "public", "t"),
                Op.UPDATE, Map.of("id", 1), null, Map.of("id", 1, "name", "x"), "1", 1, 9L, 10, 11, null, null);
        try (ChangeEventSerde serde = new ChangeEventSerde()) {
            byte[] bytes = serde.serializer().serialize("lethe.changes", change);
            assertValid(CHANGE, JSON.readTree(bytes));
            assertEquals(change, serde.deserializer().deserialize("lethe.changes", bytes));
        }
        InvalidationEvent inv = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "x", "product", Scope.ROW, "product:1",
                null, Action.UPSERT, "{\"p\":1}", "12", 12, 3L, 10, 11, 12, change.source(), Op.UPDATE, change.id(), "eu-west");
        try (InvalidationEventSerde serde = new InvalidationEventSerde()) {
            byte[] bytes = serde.serializer().serialize("lethe.invalidations", inv);
            assertValid(INVALIDATION, JSON.readTree(bytes));
            assertEquals(inv, serde.deserializer().deserialize("lethe.invalidations", bytes));
        }
    }

    @Test
    void unknownFieldsAreIgnoredOnRead() throws IOException {
        ObjectNode node = (ObjectNode) JSON.readTree(sample("invalidation-row"));
        node.put("addedInV1dot1", "whatever");
        node.putObject("nested").put("x", 1);
        InvalidationEvent event = EventJson.readInvalidation(JSON.writeValueAsBytes(node));
        assertEquals("product:42", event.key());
        assertValid(INVALIDATION, node);
    }

    @Test
    void missingRequiredFieldIsNamed() throws IOException {
        ObjectNode node = (ObjectNode) JSON.readTree(sample("invalidation-row"));
        node.remove("namespace");
        SchemaViolationException e = assertThrows(SchemaViolationException.class,
                () -> EventJson.readInvalidation(JSON.writeValueAsBytes(node)));
        assertEquals("namespace", e.field(), e.getMessage());
        assertFalse(INVALIDATION.validate(node).isEmpty(), "the schema file refuses it too");

        ObjectNode source = (ObjectNode) JSON.readTree(sample("change-update"));
        ((ObjectNode) source.get("source")).remove("table");
        SchemaViolationException nested = assertThrows(SchemaViolationException.class,
                () -> EventJson.readChange(JSON.writeValueAsBytes(source)));
        assertEquals("source.table", nested.field(), nested.getMessage());
        assertFalse(CHANGE.validate(source).isEmpty());
    }

    @Test
    void wrongTypeIsNamed() throws IOException {
        ObjectNode node = (ObjectNode) JSON.readTree(sample("change-update"));
        node.put("lsn", "not-a-number");
        SchemaViolationException e = assertThrows(SchemaViolationException.class,
                () -> EventJson.readChange(JSON.writeValueAsBytes(node)));
        assertEquals("lsn", e.field(), e.getMessage());
        assertFalse(CHANGE.validate(node).isEmpty());

        ObjectNode version = (ObjectNode) JSON.readTree(sample("invalidation-row"));
        version.put("version", "12a");
        assertEquals("version", assertThrows(SchemaViolationException.class,
                () -> EventJson.readInvalidation(JSON.writeValueAsBytes(version))).field());
        assertFalse(INVALIDATION.validate(version).isEmpty());
    }

    @Test
    void nonJsonBytesNameTheOffset() {
        byte[] bytes = "{\"schema\": \"lethe.change/v1\", oops".getBytes(StandardCharsets.UTF_8);
        SchemaViolationException e = assertThrows(SchemaViolationException.class, () -> EventJson.readChange(bytes));
        assertTrue(e.field().startsWith("offset "), e.field());
        assertTrue(Integer.parseInt(e.field().substring("offset ".length())) > 25, e.getMessage());
        assertTrue(assertThrows(SchemaViolationException.class, () -> EventJson.readChange(new byte[0])).field().startsWith("offset"));
    }

    @Test
    void scopeAndActionRulesHoldInRecordAndSchema() throws IOException {
        ObjectNode node = (ObjectNode) JSON.readTree(sample("invalidation-derived"));
        node.put("version", "5");
        assertEquals("version", assertThrows(SchemaViolationException.class,
                () -> EventJson.readInvalidation(JSON.writeValueAsBytes(node))).field());
        assertFalse(INVALIDATION.validate(node).isEmpty(), "derived keys carry version 0");

        ObjectNode pattern = (ObjectNode) JSON.readTree(sample("invalidation-pattern"));
        pattern.put("action", "upsert");
        pattern.put("payload", "{}");
        assertThrows(SchemaViolationException.class, () -> EventJson.readInvalidation(JSON.writeValueAsBytes(pattern)));
        assertFalse(INVALIDATION.validate(pattern).isEmpty(), "upsert needs a row-scoped key");
    }

    @Test
    void versionsCompareAsNumbersOfAnyLength() {
        assertTrue(Versions.compare("9", "10") < 0);
        assertTrue(Versions.compare("18446744073709551615", "9007199254740993") > 0);
        assertEquals(0, Versions.compare("007", "7"));
        assertEquals("0", Versions.canonical("000"));
    }

    @Test
    void theNextVersionIsOneAboveAndStopsAtTheMaximum() {
        assertEquals("1", Versions.next("0"));
        assertEquals("10", Versions.next("9"));
        assertEquals("1000", Versions.next("0999"));
        assertEquals("9007199254740993", Versions.next("9007199254740992"));
        assertEquals(Versions.MAX, Versions.next("18446744073709551614"));
        assertEquals(Versions.MAX, Versions.next(Versions.MAX));
    }
}
