package io.lethe.capture.topics;

import io.lethe.capture.mapping.ChangeEventMapper.UnmappableRecordException;
import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.config.DebeziumTopicsConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.ColumnText;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.json.JsonConverterConfig;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Reads one record of a topic an existing Debezium PostgreSQL connector writes through Kafka
 * Connect's {@link JsonConverter} (the standard envelope {@code before}/{@code after}/{@code source}/
 * {@code op}) and turns it into Lethe's {@link ChangeEvent}. With schemas the converter gives back
 * the Connect record capture's own {@link ChangeEventMapper} maps (one mapping for both modes);
 * without them the envelope is a JSON object, mapped here alike except that the PostgreSQL text of
 * key-template columns is unknown ({@link ChangeEvent#UNRENDERABLE_VALUE}: their keys are
 * invalidated by glob).
 */
final class EnvelopeMapper {
    private final ChangeEventMapper mapper;
    private final boolean schemas;
    private final JsonConverter keys = new JsonConverter();
    private final JsonConverter values = new JsonConverter();

    EnvelopeMapper(ChangeEventMapper mapper, DebeziumTopicsConfig topics) {
        this.mapper = mapper;
        this.schemas = topics.schemas();
        Map<String, Object> props = new HashMap<>();
        props.put(JsonConverterConfig.SCHEMAS_ENABLE_CONFIG, Boolean.toString(schemas));
        props.put(JsonConverterConfig.DECIMAL_FORMAT_CONFIG, "NUMERIC");
        keys.configure(props, true);
        values.configure(props, false);
    }

    /**
     * The change {@code value} stands for; empty for a tombstone (the null value Debezium writes after a
     * delete).
     *
     * @throws UnmappableRecordException naming what is wrong, for anything else that is not a row change
     *                                   of the table the topic is for
     */
    Optional<ChangeEvent> map(String topic, int partition, byte[] key, byte[] value, SourceTable expected) {
        if (value == null) {
            return Optional.empty();
        }
        SchemaAndValue k;
        SchemaAndValue v;
        try {
            k = key == null ? SchemaAndValue.NULL : keys.toConnectData(topic, key);
            v = values.toConnectData(topic, value);
        } catch (DataException e) {
            throw new UnmappableRecordException("not " + (schemas
                    ? "a JsonConverter record with schemas (\"schema\" and \"payload\")"
                    : "JSON") + ": " + rootMessage(e));
        }
        if (v.value() == null) {
            return Optional.empty();
        }
        ChangeEvent event;
        if (v.value() instanceof Struct) {
            SourceRecord record = new SourceRecord(null, null, topic, partition, k.schema(), k.value(), v.schema(), v.value());
            event = mapper.map(record).orElseThrow(() -> new UnmappableRecordException(
                    "not a Debezium change envelope (no op or no source)"));
        } else if (v.value() instanceof Map<?, ?> envelope && !schemas) {
            event = schemaless(envelope, k.value());
        } else {
            throw new UnmappableRecordException("not a Debezium change envelope: the value is " + describe(v.value()));
        }
        if (!event.source().schema().equals(expected.schema()) || !event.source().table().equals(expected.table())) {
            throw new UnmappableRecordException("a change of " + event.source().qualifiedName() + " on the topic of "
                    + expected.qualifiedName());
        }
        return Optional.of(event);
    }

    /** A record of the connector's transaction topic that ends a transaction. */
    record TransactionEnd(long txId, long commitLsn, Map<String, Integer> counts) {
    }

    /**
     * The END record of the connector's transaction topic ({@code provide.transaction.metadata}):
     * {@code status} END, {@code id} {@code <txId>:<LSN>} (for PostgreSQL the LSN Debezium last saw,
     * at END the commit's: the end of the commit record), {@code data_collections} the number of
     * changes per table. Empty for BEGIN.
     *
     * @throws UnmappableRecordException when the record is not a transaction metadata record
     */
    Optional<TransactionEnd> transactionEnd(String topic, byte[] value) {
        Object v;
        try {
            v = value == null ? null : values.toConnectData(topic, value).value();
        } catch (DataException e) {
            throw new UnmappableRecordException("not a JsonConverter record: " + rootMessage(e));
        }
        Map<?, ?> fields = v instanceof Struct s ? structMap(s) : v instanceof Map<?, ?> m ? m : null;
        if (fields == null || !(fields.get("status") instanceof String status) || !(fields.get("id") instanceof String id)) {
            throw new UnmappableRecordException("not a Debezium transaction metadata record (no status or no id)");
        }
        if (!status.equals("END")) {
            return Optional.empty();
        }
        int colon = id.indexOf(':');
        long txId;
        long lsn;
        try {
            txId = Long.parseLong(id.substring(0, colon));
            lsn = Long.parseLong(id.substring(colon + 1));
        } catch (RuntimeException e) {
            throw new UnmappableRecordException("transaction id '" + id + "' is not <txId>:<LSN> (a PostgreSQL connector's)");
        }
        Map<String, Integer> counts = new HashMap<>();
        if (fields.get("data_collections") instanceof List<?> collections) {
            for (Object c : collections) {
                Map<?, ?> entry = c instanceof Struct s ? structMap(s) : c instanceof Map<?, ?> m ? m : Map.of();
                if (entry.get("data_collection") instanceof String table && entry.get("event_count") instanceof Number n) {
                    counts.merge(table, n.intValue(), Integer::sum);
                }
            }
        }
        return Optional.of(new TransactionEnd(txId, lsn, counts));
    }

    /** True when a change envelope says which transaction it belongs to (streamed changes do; snapshot rows do not). */
    boolean inTransaction(String topic, byte[] value) {
        try {
            Object v = value == null ? null : values.toConnectData(topic, value).value();
            if (v instanceof Struct s) {
                return s.schema().field("transaction") != null && s.get("transaction") != null;
            }
            return v instanceof Map<?, ?> m && m.get("transaction") != null;
        } catch (DataException e) {
            return false;
        }
    }

    private static Map<String, Object> structMap(Struct s) {
        Map<String, Object> out = new HashMap<>();
        s.schema().fields().forEach(f -> out.put(f.name(), s.get(f)));
        return out;
    }

    /** The time of a record of the connector's heartbeat topic ({@code ts_ms}), epoch microseconds. */
    OptionalLong heartbeatMicros(String topic, byte[] value) {
        if (value == null) {
            return OptionalLong.empty();
        }
        Object ts;
        try {
            Object v = values.toConnectData(topic, value).value();
            ts = v instanceof Struct s
                    ? (s.schema().field("ts_ms") == null ? null : s.get("ts_ms"))
                    : v instanceof Map<?, ?> m ? m.get("ts_ms") : null;
        } catch (DataException e) {
            return OptionalLong.empty();
        }
        return ts instanceof Number n ? OptionalLong.of(n.longValue() * 1_000L) : OptionalLong.empty();
    }

    private ChangeEvent schemaless(Map<?, ?> envelope, Object key) {
        if (!(envelope.get("source") instanceof Map<?, ?> source) || !(envelope.get("op") instanceof String opCode)) {
            throw new UnmappableRecordException("not a Debezium change envelope (no op or no source)");
        }
        SourceTable table = new SourceTable(string(source, "db"), string(source, "schema"), string(source, "table"));
        Op op = switch (opCode) {
            case "c", "r" -> Op.CREATE;
            case "u" -> Op.UPDATE;
            case "d" -> Op.DELETE;
            case "t" -> Op.TRUNCATE;
            default -> throw new UnmappableRecordException("unknown op '" + opCode + "' for " + table.qualifiedName());
        };
        if (!(source.get("lsn") instanceof Number lsnNumber)) {
            throw new UnmappableRecordException("no source.lsn for " + table.qualifiedName());
        }
        long lsn = lsnNumber.longValue();
        Map<String, Object> keyColumns = null;
        if (op != Op.TRUNCATE) {
            if (!(key instanceof Map<?, ?> keyMap)) {
                throw new UnmappableRecordException("row change without a primary key (the record key) for " + table.qualifiedName());
            }
            keyColumns = columns(keyMap, null);
        }
        Set<String> wanted = mapper.projection().columnsFor(table.qualifiedName());
        Map<String, Object> before = envelope.get("before") instanceof Map<?, ?> b ? columns(b, wanted) : null;
        Map<String, Object> after = op == Op.DELETE ? null : envelope.get("after") instanceof Map<?, ?> a ? columns(a, wanted) : null;
        Set<String> templateColumns = mapper.projection().templateColumnsFor(table.qualifiedName());
        ColumnText text = null;
        if (op != Op.TRUNCATE && !templateColumns.isEmpty()) {
            text = new ColumnText(unknownText(keyColumns, templateColumns), unknownText(before, templateColumns),
                    unknownText(after, templateColumns));
        }
        Long txId = source.get("txId") instanceof Number n ? n.longValue() : null;
        long commitTs = source.get("ts_us") instanceof Number us
                ? us.longValue()
                : source.get("ts_ms") instanceof Number ms ? ms.longValue() * 1_000L : 0L;
        return new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(lsn, table), table, op, keyColumns, before, after,
                Long.toString(lsn), lsn, txId, commitTs, mapper.now(), null, mapper.originRegion(), null, text);
    }

    private Map<String, Object> columns(Map<?, ?> row, Set<String> wanted) {
        Map<String, Object> out = new LinkedHashMap<>();
        row.forEach((name, value) -> {
            String column = String.valueOf(name);
            if (wanted == null || wanted.contains(column)) {
                out.put(column, mapper.isPlaceholder(value) ? ChangeEvent.UNAVAILABLE_VALUE : value);
            }
        });
        return out;
    }

    /**
     * Without schemas the PostgreSQL type of a column is unknown (a number may be an integer or a
     * timestamp's microseconds, a string text, char(n) or inet), so its text is too: keys from it
     * are invalidated by glob. A value PostgreSQL did not send stays unavailable; NULL stays NULL.
     */
    private static Map<String, String> unknownText(Map<String, Object> row, Set<String> templateColumns) {
        if (row == null) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        row.forEach((column, value) -> {
            if (templateColumns.contains(column)) {
                out.put(column, value == null
                        ? null
                        : ChangeEvent.UNAVAILABLE_VALUE.equals(value)
                                ? ChangeEvent.UNAVAILABLE_VALUE
                                : ChangeEvent.UNRENDERABLE_VALUE);
            }
        });
        return out;
    }

    private static String string(Map<?, ?> map, String field) {
        Object value = map.get(field);
        if (!(value instanceof String s)) {
            throw new UnmappableRecordException("no source." + field + " in the envelope");
        }
        return s;
    }

    private static String describe(Object value) {
        return value instanceof String
                ? "a string"
                : value instanceof Number
                        ? "a number"
                        : value instanceof List
                                ? "an array"
                                : value.getClass().getSimpleName();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m.length() > 200 ? m.substring(0, 200) + "..." : m;
    }
}
