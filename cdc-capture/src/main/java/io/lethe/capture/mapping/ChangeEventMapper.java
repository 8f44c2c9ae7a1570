package io.lethe.capture.mapping;

import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.ColumnText;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.Watermark;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns one Debezium PostgreSQL record into a {@link ChangeEvent}: version = the row change's
 * LSN ({@code source.lsn}), commit time in microseconds, and only the columns the configured
 * namespaces need. Heartbeats and the heartbeat table's own changes map to nothing.
 */
public final class ChangeEventMapper {
    /**
     * The heartbeat row's column naming the source history of the server that committed it (the
     * heartbeat table is made and kept by the source side: {@code source.StateStore#HISTORY_COLUMN}).
     */
    public static final String HISTORY_FIELD = "source_history";
    /** What PostgreSQL did not send (an unchanged TOASTed column); see docs/subscribing.md. */
    public static final String UNAVAILABLE = ChangeEvent.UNAVAILABLE_VALUE;

    private final ColumnProjection projection;
    private final String heartbeatTable;
    private final String originRegion;
    private final Clock clock;
    private final ToastPlaceholders placeholders;
    private final boolean foreign;

    public ChangeEventMapper(ColumnProjection projection, String heartbeatTable, String originRegion, Clock clock) {
        this(projection, heartbeatTable, originRegion, clock, ToastPlaceholders.LETHE, false);
    }

    private ChangeEventMapper(ColumnProjection projection, String heartbeatTable, String originRegion, Clock clock,
            ToastPlaceholders placeholders, boolean foreign) {
        this.projection = projection;
        this.heartbeatTable = heartbeatTable;
        this.originRegion = originRegion;
        this.clock = clock;
        this.placeholders = placeholders;
        this.foreign = foreign;
    }

    /**
     * A mapper of records a connector Lethe did not configure wrote ({@code source.mode: debezium-topics}):
     * its {@code unavailable.value.placeholder} is {@code placeholder}, and a key-template column whose
     * PostgreSQL type its schema does not name is rendered only when its encoding says the type
     * ({@link ConnectText#ofForeign}), else its keys are invalidated by glob.
     */
    public static ChangeEventMapper forForeignConnector(ColumnProjection projection, String originRegion, Clock clock, String placeholder) {
        return new ChangeEventMapper(projection, null, originRegion, clock, new ToastPlaceholders(placeholder), true);
    }

    /** True when {@code value} is the placeholder of a value PostgreSQL did not send, as this mapper's connector writes it. */
    public boolean isPlaceholder(Object value) {
        return placeholders.matches(value);
    }

    /** The columns of {@code schema.table} changes carry (see {@link ColumnProjection}). */
    public ColumnProjection projection() {
        return projection;
    }

    /** The origin region changes are stamped with. */
    public String originRegion() {
        return originRegion;
    }

    /** Now, in epoch microseconds. */
    public long now() {
        return nowMicros();
    }

    /**
     * @return the change, or empty for records that are not row changes of configured tables
     *         (Debezium heartbeats, the heartbeat table, tombstones)
     * @throws UnmappableRecordException when the record does not have Debezium's envelope shape
     */
    public Optional<ChangeEvent> map(SourceRecord record) {
        if (!(record.value() instanceof Struct envelope)) {
            return Optional.empty();
        }
        if (envelope.schema().field("op") == null || envelope.schema().field("source") == null) {
            return Optional.empty();
        }
        String opCode = envelope.getString("op");
        if (opCode == null) {
            return Optional.empty();
        }
        Struct source = envelope.getStruct("source");
        SourceTable table = new SourceTable(source.getString("db"), source.getString("schema"), source.getString("table"));
        if (heartbeatTable != null && table.qualifiedName().equals(heartbeatTable)) {
            return Optional.empty();
        }
        Op op = switch (opCode) {
            case "c", "r" -> Op.CREATE;
            case "u" -> Op.UPDATE;
            case "d" -> Op.DELETE;
            case "t" -> Op.TRUNCATE;
            default -> throw new UnmappableRecordException("unknown op '" + opCode + "' for " + table.qualifiedName());
        };
        Long lsn = source.getInt64("lsn");
        if (lsn == null) {
            throw new UnmappableRecordException("no source.lsn for " + table.qualifiedName());
        }
        Map<String, Object> key = op == Op.TRUNCATE ? null : keyOf(record);
        Map<String, Object> before = project(table, envelope.getStruct("before"));
        Map<String, Object> after = op == Op.DELETE ? null : project(table, envelope.getStruct("after"));
        long commitMicros = commitMicros(source);
        ColumnText text = null;
        Set<String> templateColumns = projection.templateColumnsFor(table.qualifiedName());
        if (op != Op.TRUNCATE && !templateColumns.isEmpty()) {
            text = new ColumnText(text((Struct) record.key(), templateColumns), text(envelope.getStruct("before"), templateColumns),
                    op == Op.DELETE ? null : text(envelope.getStruct("after"), templateColumns));
        }
        return Optional.of(new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(lsn, table), table, op, key,
                before, after, Long.toString(lsn), lsn, source.getInt64("txId"), commitMicros, nowMicros(), null,
                originRegion, null, text));
    }

    /**
     * The commit of a heartbeat row, when {@code record} is one: the watermark it stands for
     * (see {@link Watermark}). Empty for every other record.
     */
    public Optional<Watermark> heartbeat(SourceRecord record) {
        if (heartbeatTable == null || tableOf(record).filter(t -> t.qualifiedName().equals(heartbeatTable)).isEmpty()) {
            return Optional.empty();
        }
        Struct source = ((Struct) record.value()).getStruct("source");
        Long lsn = source.schema().field("lsn") == null ? null : source.getInt64("lsn");
        Struct after = ((Struct) record.value()).getStruct("after");
        String history = after != null && after.schema().field(HISTORY_FIELD) != null ? after.getString(HISTORY_FIELD) : null;
        return lsn == null ? Optional.empty() : Optional.of(new Watermark(commitMicros(source), lsn, -1, history));
    }

    /** The table a Debezium change record comes from, when it says so (even if it cannot be mapped). */
    public static Optional<SourceTable> tableOf(SourceRecord record) {
        if (!(record.value() instanceof Struct envelope) || envelope.schema().field("source") == null) {
            return Optional.empty();
        }
        Struct source = envelope.getStruct("source");
        if (source == null || source.schema().field("schema") == null || source.schema().field("table") == null) {
            return Optional.empty();
        }
        return Optional.of(new SourceTable(source.getString("db"), source.getString("schema"), source.getString("table")));
    }

    private long nowMicros() {
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private static long commitMicros(Struct source) {
        if (source.schema().field("ts_us") != null && source.getInt64("ts_us") != null) {
            return source.getInt64("ts_us");
        }
        Long millis = source.getInt64("ts_ms");
        return millis == null ? 0 : millis * 1_000L;
    }

    private Map<String, Object> keyOf(SourceRecord record) {
        if (!(record.key() instanceof Struct key)) {
            throw new UnmappableRecordException("row change without a primary key in " + record.topic()
                    + "; Lethe needs a primary key on every configured table");
        }
        return toMap(key, null);
    }

    private Map<String, Object> project(SourceTable table, Struct row) {
        if (row == null) {
            return null;
        }
        return toMap(row, projection.columnsFor(table.qualifiedName()));
    }

    /** The key-template columns of a row image as PostgreSQL prints them (see {@link ColumnText}). */
    private Map<String, String> text(Struct row, Set<String> templateColumns) {
        if (row == null) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Field field : row.schema().fields()) {
            if (templateColumns.contains(field.name())) {
                Object value = row.get(field);
                out.put(field.name(), placeholders.matches(value)
                        ? UNAVAILABLE
                        : foreign ? ConnectText.ofForeign(field.schema(), value) : ConnectText.of(field.schema(), value));
            }
        }
        return out;
    }

    private Map<String, Object> toMap(Struct struct, Set<String> wanted) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Field field : struct.schema().fields()) {
            if (wanted == null || wanted.contains(field.name())) {
                Object value = struct.get(field);
                out.put(field.name(), placeholders.matches(value) ? UNAVAILABLE : json(value));
            }
        }
        return out;
    }

    /** A Connect value as a JSON-friendly value: bytes as base64, structs as maps. */
    Object json(Object value) {
        if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean) {
            return value;
        }
        if (value instanceof byte[] bytes) {
            return Base64.getEncoder().encodeToString(bytes);
        }
        if (value instanceof ByteBuffer buffer) {
            ByteBuffer copy = buffer.duplicate();
            byte[] bytes = new byte[copy.remaining()];
            copy.get(bytes);
            return Base64.getEncoder().encodeToString(bytes);
        }
        if (value instanceof Struct struct) {
            return toMap(struct, null);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(v -> out.add(json(v)));
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), json(v)));
            return out;
        }
        if (value instanceof Date date) {
            return date.toInstant().toString();
        }
        return value.toString();
    }

    /** A record that is not a Debezium change envelope Lethe understands. */
    public static final class UnmappableRecordException extends RuntimeException {
        public UnmappableRecordException(String message) {
            super(message);
        }
    }
}
