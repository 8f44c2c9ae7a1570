package io.lethe.capture.mapping;

import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.keys.PgText;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.BitSet;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * A key-template column's value, as Debezium encodes it in a Connect record, turned back into the
 * text PostgreSQL prints for it ({@link PgText}: {@code col::text} with {@code TimeZone=UTC}).
 * Debezium's settings it relies on are Lethe's own ({@code decimal.handling.mode=string}, the
 * default {@code time.precision.mode=adaptive}, {@code binary.handling.mode=bytes}; the config
 * refuses overrides), and {@code column.propagate.source.type} names each template column's type.
 * A value it cannot turn into text exactly is {@link ChangeEvent#UNRENDERABLE_VALUE}: start-up
 * refuses template columns of such types ({@code PgTypes}), so that only happens after a column is
 * retyped while capture runs, and streams then invalidates the template's glob.
 */
final class ConnectText {
    /** Debezium's schema parameter naming the column's PostgreSQL type, upper-case (BPCHAR, INET, ...). */
    static final String SOURCE_TYPE = "__debezium.source.column.type";
    /**
     * The PostgreSQL JDBC driver's ±infinity for timestamps (PGStatement), which Debezium passes on
     * as microseconds (as milliseconds divided by 1,000 for timestamp(0..3)). A real timestamp at
     * exactly that instant of the year 294247 has the same encoding and renders as infinity too.
     */
    private static final long INFINITY = 9223372036825200000L;
    private static final long MINUS_INFINITY = -9223372036832400000L;
    /**
     * PostgreSQL's earliest timestamp, 4713-01-01 00:00 BC, in microseconds since 1970. Debezium's
     * microseconds of a timestamp after 294247-01-10 overflow to below it: such a value cannot be
     * rendered (its keys are invalidated by glob).
     */
    private static final long MIN_TIMESTAMP_MICROS = LocalDateTime.of(-4712, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC) * 1_000_000L;
    /**
     * Debezium's days for a date of ±infinity (seen from Debezium 3.6.3, KeyRenderingIT): far outside
     * PostgreSQL's date range (4713 BC to 5874897 AD), so no real date collides with them.
     */
    private static final int DATE_INFINITY = -2147472692;
    private static final int DATE_MINUS_INFINITY = -2147472691;

    private ConnectText() {
    }

    /** PostgreSQL's text of {@code value} (null for SQL NULL), or {@link ChangeEvent#UNRENDERABLE_VALUE}. */
    static String of(Schema schema, Object value) {
        if (value == null) {
            return null;
        }
        try {
            String text = render(schema, value);
            return text == null ? ChangeEvent.UNRENDERABLE_VALUE : text;
        } catch (RuntimeException e) {
            return ChangeEvent.UNRENDERABLE_VALUE;
        }
    }

    /**
     * As {@link #of(Schema, Object)}, for a connector Lethe did not configure: when the column's schema
     * does not name its PostgreSQL type ({@code column.propagate.source.type} or
     * {@code datatype.propagate.source.type} not set on that connector), only the encodings that say
     * their type alone render (integers, and Debezium's named temporal and UUID types); a string may be
     * text, char(n), inet or numeric, which print differently, so it is {@link ChangeEvent#UNRENDERABLE_VALUE}.
     */
    static String ofForeign(Schema schema, Object value) {
        if (value == null || !sourceType(schema).isEmpty()) {
            return of(schema, value);
        }
        String name = schema.name() == null ? "" : schema.name();
        boolean selfDescribing = switch (name) {
            case "io.debezium.time.Date", "io.debezium.time.MicroTime", "io.debezium.time.MicroTimestamp", "io.debezium.time.Timestamp",
                    "io.debezium.time.ZonedTimestamp", "io.debezium.data.Uuid" ->
                true;
            case "" -> switch (schema.type()) {
                case INT16, INT32, INT64 -> true;
                default -> false;
            };
            default -> false;
        };
        return selfDescribing ? of(schema, value) : ChangeEvent.UNRENDERABLE_VALUE;
    }

    private static String sourceType(Schema schema) {
        Map<String, String> parameters = schema.parameters();
        String type = parameters == null ? null : parameters.get(SOURCE_TYPE);
        return type == null ? "" : type.toUpperCase(Locale.ROOT);
    }

    private static String render(Schema schema, Object value) {
        String type = sourceType(schema);
        String name = schema.name() == null ? "" : schema.name();
        switch (type) {
            case "MONEY", "TIMETZ", "INTERVAL", "VARBIT", "NAME", "PG_LSN" -> {
                return null; // no defined rendering (PgTypes says why)
            }
            default -> {
            }
        }
        switch (name) {
            case "io.debezium.time.Date" -> {
                int days = ((Number) value).intValue();
                return days == DATE_INFINITY
                        ? "infinity"
                        : days == DATE_MINUS_INFINITY
                                ? "-infinity"
                                : PgText.date(LocalDate.ofEpochDay(days));
            }
            case "io.debezium.time.Time" -> {
                return PgText.time(((Number) value).longValue() * 1_000L);
            }
            case "io.debezium.time.MicroTime" -> {
                return PgText.time(((Number) value).longValue());
            }
            case "io.debezium.time.Timestamp" -> {
                long millis = ((Number) value).longValue();
                return millis == INFINITY / 1_000
                        ? "infinity"
                        : millis == MINUS_INFINITY / 1_000
                                ? "-infinity"
                                : timestamp(Math.floorDiv(millis, 1_000L),
                                        Math.floorMod(millis, 1_000L) * 1_000_000L);
            }
            case "io.debezium.time.MicroTimestamp" -> {
                long micros = ((Number) value).longValue();
                if (micros != MINUS_INFINITY && micros < MIN_TIMESTAMP_MICROS) {
                    return null; // Debezium's microseconds overflowed: a timestamp after 294247-01-10
                }
                return micros == INFINITY
                        ? "infinity"
                        : micros == MINUS_INFINITY
                                ? "-infinity"
                                : timestamp(Math.floorDiv(micros, 1_000_000L),
                                        Math.floorMod(micros, 1_000_000L) * 1_000L);
            }
            case "io.debezium.time.ZonedTimestamp" -> {
                String text = value.toString();
                if (text.equals("infinity") || text.equals("-infinity")) {
                    return text;
                }
                return PgText.timestamptz(OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant());
            }
            case "io.debezium.data.Bits" -> {
                return type.equals("BIT") ? bits(bytes(value), Integer.parseInt(schema.parameters().get("length"))) : null;
            }
            case "io.debezium.data.geometry.Point" -> {
                Struct point = (Struct) value;
                return "(" + PgText.float8(point.getFloat64("x")) + "," + PgText.float8(point.getFloat64("y")) + ")";
            }
            case "io.debezium.time.ZonedTime", "io.debezium.time.MicroDuration", "io.debezium.time.NanoDuration",
                    "io.debezium.time.Interval", "io.debezium.time.NanoTime", "io.debezium.time.NanoTimestamp" -> {
                return null;
            }
            default -> {
            }
        }
        return switch (schema.type()) {
            case INT8, INT16, INT32, INT64 -> value.toString();
            case FLOAT32 -> PgText.float4(((Number) value).floatValue());
            case FLOAT64 -> PgText.float8(((Number) value).doubleValue());
            case BOOLEAN -> type.equals("BIT") ? ((Boolean) value ? "1" : "0") : ((Boolean) value ? "true" : "false");
            case BYTES -> type.equals("BYTEA") || type.isEmpty() ? PgText.bytea(bytes(value)) : null;
            case STRING -> string(type, value.toString());
            default -> null; // arrays, maps, structs: refused at start-up
        };
    }

    private static String string(String type, String text) {
        return switch (type) {
            case "BPCHAR", "CHAR", "CHARACTER" -> PgText.bpchar(text);
            case "INET" -> PgText.inet(text);
            case "NUMERIC", "DECIMAL" -> numeric(text);
            default -> text;
        };
    }

    /** numeric with decimal.handling.mode=string: Debezium writes NaN and the infinities its own way. */
    private static String numeric(String text) {
        return switch (text) {
            case "NAN", "NaN" -> "NaN";
            case "POSITIVE_INFINITY", "Infinity" -> "Infinity";
            case "NEGATIVE_INFINITY", "-Infinity" -> "-Infinity";
            default -> new BigDecimal(text).toPlainString();
        };
    }

    private static String timestamp(long epochSeconds, long nanos) {
        return PgText.timestamp(LocalDateTime.ofEpochSecond(epochSeconds, (int) nanos, ZoneOffset.UTC));
    }

    /** bit(n): Debezium passes the bits as a little-endian integer's bytes; PostgreSQL prints the highest first. */
    private static String bits(byte[] bytes, int length) {
        BitSet set = BitSet.valueOf(bytes);
        if (set.length() > length) {
            return null;
        }
        StringBuilder out = new StringBuilder(length);
        for (int i = length - 1; i >= 0; i--) {
            out.append(set.get(i) ? '1' : '0');
        }
        return out.toString();
    }

    private static byte[] bytes(Object value) {
        if (value instanceof byte[] b) {
            return b;
        }
        ByteBuffer copy = ((ByteBuffer) value).duplicate();
        byte[] out = new byte[copy.remaining()];
        copy.get(out);
        return out;
    }
}
