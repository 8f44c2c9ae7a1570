package io.lethe.region.inspect;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.lethe.schemas.serde.EventJson;
import java.io.IOException;
import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** How the inspector renders a row's payload columns as an upsert carries them, and compares a cached payload with it. */
final class Payloads {
    private Payloads() {
    }

    /**
     * The payload columns as capture carries them in a change event and the mapper renders an
     * upsert (Debezium's encoding: numbers, booleans and text as such, numeric as its text, dates as
     * days since 1970, timestamps in milli- or microseconds by precision, bytes as base64); empty
     * when a column's type is not one of these, or a value is not one Java's dates hold
     * ({@code infinity}, a year past 9999 or BC): such a key is not judged.
     */
    static Optional<String> render(ResultSet rs, int first, List<String> columns) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            int index = first + i;
            String type = md.getColumnTypeName(index);
            Object value;
            switch (type) {
                case "int2", "int4" -> value = rs.getObject(index) == null ? null : rs.getInt(index);
                case "int8" -> value = rs.getObject(index) == null ? null : rs.getLong(index);
                case "float4" -> value = rs.getObject(index) == null ? null : rs.getFloat(index);
                case "float8" -> value = rs.getObject(index) == null ? null : rs.getDouble(index);
                case "bool" -> value = rs.getObject(index) == null ? null : rs.getBoolean(index);
                case "numeric", "text", "varchar", "bpchar", "uuid", "json", "jsonb", "name" -> value = rs.getString(index);
                case "date", "timestamp" -> {
                    // parsed from the text the session prints (ISO): infinity, a year past 9999 or BC does not parse
                    String text = rs.getString(index);
                    if (text == null) {
                        value = null;
                    } else {
                        try {
                            value = "date".equals(type)
                                    ? (Object) (int) LocalDate.parse(text).toEpochDay()
                                    : micros(text, md.getScale(index));
                        } catch (DateTimeException | ArithmeticException e) {
                            return Optional.empty();
                        }
                    }
                }
                case "bytea" -> {
                    byte[] b = rs.getBytes(index);
                    value = b == null ? null : Base64.getEncoder().encodeToString(b);
                }
                default -> {
                    return Optional.empty();
                }
            }
            values.put(columns.get(i), value);
        }
        try {
            return Optional.of(EventJson.mapper().writeValueAsString(values));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render a payload", e);
        }
    }

    /** A timestamp's text as Debezium carries it: microseconds since 1970, or milliseconds for a precision up to 3. */
    private static long micros(String text, int scale) {
        Instant at = LocalDateTime.parse(text.replace(' ', 'T')).toInstant(ZoneOffset.UTC);
        long micros = Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000);
        return scale <= 3 ? micros / 1_000 : micros;
    }

    /** True when two payloads hold the same fields and values (numbers compared as numbers, field order ignored). */
    static boolean samePayload(String cached, String expected) {
        try {
            return same(EventJson.mapper().readTree(cached), EventJson.mapper().readTree(expected));
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean same(JsonNode a, JsonNode b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a.isNumber() && b.isNumber()) {
            return new BigDecimal(a.asText()).compareTo(new BigDecimal(b.asText())) == 0;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (Iterator<String> it = a.fieldNames(); it.hasNext();) {
                String f = it.next();
                if (!same(a.get(f), b.get(f))) {
                    return false;
                }
            }
            return true;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!same(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }
}
