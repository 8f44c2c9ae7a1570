package io.lethe.schemas.serde;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lethe.schemas.Action;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.ColumnText;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.SourceTable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;

/**
 * The hot path of {@link EventJson}: events written and read field by field with Jackson's
 * streaming API instead of data binding (a region consumer reads every invalidation it applies;
 * binding was a fifth of its CPU). It writes exactly the bytes the data binding writes, and reads
 * only what is plainly well-formed: anything else (a missing or null field, a number where a
 * string belongs, a value the record refuses) returns null, and the caller binds the bytes
 * instead, so every error, coercion and message stays the data binding's. Tested byte for byte
 * and value for value against it.
 */
final class FastEventJson {
    private static final TypeReference<Map<String, Object>> COLUMNS = new TypeReference<>() {
    };

    private final ObjectMapper mapper;

    FastEventJson(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** Not plainly well-formed: the data binding decides. */
    private static final class Unusual extends Exception {
        private static final Unusual INSTANCE = new Unusual();

        private Unusual() {
            super(null, null, false, false);
        }
    }

    /**
     * Each thread's output buffer, reused (a new one per event, grown and copied, was most of what
     * writing an event allocated); only a buffer that grew past {@link #MAX_KEPT} (a large upsert's
     * payload) is dropped afterwards, so no thread keeps one.
     */
    private static final ThreadLocal<ByteArrayOutputStream> OUT = ThreadLocal.withInitial(() -> new ByteArrayOutputStream(1024));
    private static final int MAX_KEPT = 64 * 1024;

    private static ByteArrayOutputStream out() {
        ByteArrayOutputStream out = OUT.get();
        out.reset();
        return out;
    }

    private static byte[] bytes(ByteArrayOutputStream out) {
        byte[] bytes = out.toByteArray();
        if (out.size() > MAX_KEPT) {
            OUT.remove();
        }
        return bytes;
    }

    byte[] write(InvalidationEvent e) throws IOException {
        ByteArrayOutputStream out = out();
        try (JsonGenerator g = mapper.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("schema", e.schema());
            g.writeStringField("id", e.id());
            g.writeStringField("namespace", e.namespace());
            g.writeStringField("scope", e.scope().code());
            optional(g, "key", e.key());
            optional(g, "pattern", e.pattern());
            g.writeStringField("action", e.action().code());
            optional(g, "payload", e.payload());
            g.writeStringField("version", e.version());
            g.writeNumberField("lsn", e.lsn());
            optional(g, "txId", e.txId());
            g.writeNumberField("commitTs", e.commitTs());
            g.writeNumberField("capturedAt", e.capturedAt());
            g.writeNumberField("emittedAt", e.emittedAt());
            source(g, e.source());
            g.writeStringField("op", e.op().code());
            optional(g, "changeId", e.changeId());
            optional(g, "originRegion", e.originRegion());
            optional(g, "commitLsn", e.commitLsn());
            g.writeEndObject();
        }
        return bytes(out);
    }

    byte[] write(ChangeEvent e) throws IOException {
        ByteArrayOutputStream out = out();
        try (JsonGenerator g = mapper.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("schema", e.schema());
            g.writeStringField("id", e.id());
            source(g, e.source());
            g.writeStringField("op", e.op().code());
            columns(g, "key", e.key());
            columns(g, "before", e.before());
            columns(g, "after", e.after());
            g.writeStringField("version", e.version());
            g.writeNumberField("lsn", e.lsn());
            optional(g, "txId", e.txId());
            g.writeNumberField("commitTs", e.commitTs());
            g.writeNumberField("capturedAt", e.capturedAt());
            optional(g, "namespace", e.namespace());
            optional(g, "originRegion", e.originRegion());
            optional(g, "commitLsn", e.commitLsn());
            if (e.text() != null) {
                g.writeFieldName("text");
                g.writeObject(e.text());
            }
            g.writeEndObject();
        }
        return bytes(out);
    }

    private static void optional(JsonGenerator g, String field, String value) throws IOException {
        if (value != null) {
            g.writeStringField(field, value);
        }
    }

    private static void optional(JsonGenerator g, String field, Long value) throws IOException {
        if (value != null) {
            g.writeNumberField(field, value);
        }
    }

    private static void source(JsonGenerator g, SourceTable source) throws IOException {
        if (source != null) {
            g.writeObjectFieldStart("source");
            g.writeStringField("database", source.database());
            g.writeStringField("schema", source.schema());
            g.writeStringField("table", source.table());
            g.writeEndObject();
        }
    }

    private static void columns(JsonGenerator g, String field, Map<String, Object> columns) throws IOException {
        if (columns != null) {
            g.writeFieldName(field);
            // column values are whatever the mapper made of PostgreSQL's: the data binding writes them
            g.writeObject(columns);
        }
    }

    /** The invalidation, or null when the data binding must decide. */
    InvalidationEvent readInvalidation(byte[] bytes) {
        try (JsonParser p = mapper.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String schema = null, id = null, namespace = null, key = null, pattern = null, payload = null, version = null;
            String changeId = null, originRegion = null, scope = null, action = null, op = null;
            Long lsn = null, txId = null, commitTs = null, capturedAt = null, emittedAt = null, commitLsn = null;
            SourceTable source = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "schema" -> schema = text(p, t);
                    case "id" -> id = text(p, t);
                    case "namespace" -> namespace = text(p, t);
                    case "scope" -> scope = text(p, t);
                    case "key" -> key = text(p, t);
                    case "pattern" -> pattern = text(p, t);
                    case "action" -> action = text(p, t);
                    case "payload" -> payload = text(p, t);
                    case "version" -> version = text(p, t);
                    case "lsn" -> lsn = number(p, t);
                    case "txId" -> txId = number(p, t);
                    case "commitTs" -> commitTs = number(p, t);
                    case "capturedAt" -> capturedAt = number(p, t);
                    case "emittedAt" -> emittedAt = number(p, t);
                    case "source" -> source = source(p, t);
                    case "op" -> op = text(p, t);
                    case "changeId" -> changeId = text(p, t);
                    case "originRegion" -> originRegion = text(p, t);
                    case "commitLsn" -> commitLsn = number(p, t);
                    default -> p.skipChildren();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || schema == null || id == null || namespace == null || scope == null
                    || action == null || version == null || lsn == null || commitTs == null || capturedAt == null
                    || emittedAt == null || op == null) {
                return null;
            }
            return new InvalidationEvent(schema, id, namespace, Scope.fromCode(scope), key, pattern, Action.fromCode(action), payload,
                    version, lsn, txId, commitTs, capturedAt, emittedAt, source, Op.fromCode(op), changeId, originRegion, commitLsn);
        } catch (Unusual | IOException | RuntimeException e) {
            return null;
        }
    }

    /** The change, or null when the data binding must decide. */
    ChangeEvent readChange(byte[] bytes) {
        try (JsonParser p = mapper.createParser(bytes)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            String schema = null, id = null, op = null, version = null, namespace = null, originRegion = null;
            Long lsn = null, txId = null, commitTs = null, capturedAt = null, commitLsn = null;
            SourceTable source = null;
            Map<String, Object> key = null, before = null, after = null;
            ColumnText text = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    case "schema" -> schema = text(p, t);
                    case "id" -> id = text(p, t);
                    case "source" -> source = source(p, t);
                    case "op" -> op = text(p, t);
                    case "key" -> key = columns(p, t);
                    case "before" -> before = columns(p, t);
                    case "after" -> after = columns(p, t);
                    case "version" -> version = text(p, t);
                    case "lsn" -> lsn = number(p, t);
                    case "txId" -> txId = number(p, t);
                    case "commitTs" -> commitTs = number(p, t);
                    case "capturedAt" -> capturedAt = number(p, t);
                    case "namespace" -> namespace = text(p, t);
                    case "originRegion" -> originRegion = text(p, t);
                    case "commitLsn" -> commitLsn = number(p, t);
                    case "text" -> text = t == JsonToken.VALUE_NULL ? null : mapper.readValue(p, ColumnText.class);
                    default -> p.skipChildren();
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT || schema == null || id == null || source == null || op == null
                    || version == null || lsn == null || commitTs == null || capturedAt == null) {
                return null;
            }
            return new ChangeEvent(schema, id, source, Op.fromCode(op), key, before, after, version, lsn, txId, commitTs, capturedAt,
                    namespace, originRegion, commitLsn, text);
        } catch (Unusual | IOException | RuntimeException e) {
            return null;
        }
    }

    private static String text(JsonParser p, JsonToken t) throws IOException, Unusual {
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        throw Unusual.INSTANCE;
    }

    private static Long number(JsonParser p, JsonToken t) throws IOException, Unusual {
        if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
            return p.getLongValue();
        }
        // null, a fraction or a string: the data binding refuses or coerces it
        throw Unusual.INSTANCE;
    }

    private static SourceTable source(JsonParser p, JsonToken t) throws IOException, Unusual {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.START_OBJECT) {
            throw Unusual.INSTANCE;
        }
        String database = null, schema = null, table = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            switch (field) {
                case "database" -> database = text(p, v);
                case "schema" -> schema = text(p, v);
                case "table" -> table = text(p, v);
                default -> p.skipChildren();
            }
        }
        if (database == null || schema == null || table == null) {
            throw Unusual.INSTANCE;
        }
        return new SourceTable(database, schema, table);
    }

    private Map<String, Object> columns(JsonParser p, JsonToken t) throws IOException, Unusual {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        if (t != JsonToken.START_OBJECT) {
            throw Unusual.INSTANCE;
        }
        return mapper.readValue(p, COLUMNS);
    }
}
