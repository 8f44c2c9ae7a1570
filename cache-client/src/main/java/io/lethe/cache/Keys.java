package io.lethe.cache;

import io.lethe.schemas.keys.KeyFormat;
import io.lethe.schemas.keys.PgText;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds cache keys exactly as Lethe does: the same template syntax as {@code lethe.yml}'s
 * {@code keys} and the same renderer, so the key a reader fills is the key the pipeline
 * invalidates. Each column is rendered as the text PostgreSQL prints for its value ({@code
 * col::text} in a session with {@code TimeZone=UTC}):
 *
 * <pre>{@code
 * Keys product = Keys.template("product:{id}:price");
 * String key = product.render(Map.of("id", 42L));                       // product:42:price
 * Keys day = Keys.template("orders:{day}");
 * day.render(Map.of("day", LocalDate.of(1999, 12, 31)));                // orders:1999-12-31
 * Keys at = Keys.template("seen:{at}");
 * at.render(Map.of("at", OffsetDateTime.parse("2000-01-01T05:30:00.5+05:30"))); // seen:2000-01-01 00%3A00%3A00.5+00
 * Keys order = Keys.template("order:{customer}:{id}");
 * order.render("1:2", 3);                                               // order:1%3A2:3
 * order.glob(Map.of("customer", 1));                                    // order:1:*
 * }</pre>
 *
 * The value's text is escaped (key format 2, {@link KeyFormat}): each of {@code % : { } * ? [ ] \}
 * is written as {@code %} and its upper-case hex code, so no value renders another row's or
 * another template's key, and a glob built from values matches only keys of those values.
 *
 * Values may be what the PostgreSQL JDBC driver returns for the column (Integer, Long,
 * BigDecimal, Double, Boolean, UUID, LocalDate, LocalDateTime, OffsetDateTime, byte[], ...), or
 * a String holding PostgreSQL's text for it (e.g. read with {@code SELECT col::text}; for types
 * such as inet, jsonb, enums, bit or point, pass that text). See {@link PgText#of} for the exact
 * mapping. Lethe refuses at start-up any template column whose type has no defined rendering.
 */
public final class Keys {
    private final KeyFormat format;

    private Keys(KeyFormat format) {
        this.format = format;
    }

    /**
     * A template as written in {@code lethe.yml}: literal text with {@code {column}} placeholders;
     * {@code {{} and {@code }}} are literal braces.
     *
     * @throws IllegalArgumentException saying what is wrong with the template and where
     */
    public static Keys template(String template) {
        return new Keys(KeyFormat.parse(template));
    }

    /**
     * True when this template could have rendered {@code key} (key format 2: each column's text
     * escaped). A key built by hand from a value holding {@code :} or another reserved character is
     * not one Lethe invalidates.
     */
    public boolean matches(String key) {
        return format.matches(key);
    }

    /** The columns the template reads, in order of first use. */
    public List<String> columns() {
        return format.columns();
    }

    /**
     * The key for a row's values.
     *
     * @throws IllegalArgumentException when a column is missing or NULL (the row has no such key:
     *                                  Lethe renders none either), or a value has no defined rendering
     */
    public String render(Map<String, ?> values) {
        for (String column : format.columns()) {
            if (!values.containsKey(column)) {
                throw new IllegalArgumentException("key template '" + format.text() + "' needs column '" + column + "'");
            }
            if (values.get(column) == null) {
                throw new IllegalArgumentException("column '" + column + "' of key template '" + format.text()
                        + "' is NULL: the row has no such key");
            }
        }
        return format.render(values).orElseThrow();
    }

    /** The key for values given in the order of {@link #columns()}. */
    public String render(Object... values) {
        List<String> columns = format.columns();
        if (values.length != columns.size()) {
            throw new IllegalArgumentException("key template '" + format.text() + "' needs " + columns.size() + " value(s) "
                    + columns + ", got " + values.length);
        }
        Map<String, Object> row = new HashMap<>();
        for (int i = 0; i < values.length; i++) {
            row.put(columns.get(i), values[i]);
        }
        return render(row);
    }

    /** One value as PostgreSQL prints it: what a template puts in the key for it, before escaping. */
    public static String text(Object value) {
        return PgText.of(value);
    }

    /**
     * A Redis MATCH glob for the keys of rows whose columns in {@code bound} hold those values,
     * every other column any value: {@code order:{customer}:{id}} with customer 1 is
     * {@code order:1:*}, which no key of customer {@code 1:2} or {@code 1*} matches.
     *
     * @throws IllegalArgumentException when a bound value is NULL or has no defined rendering, or
     *                                  {@code bound} names a column the template does not read
     */
    public String glob(Map<String, ?> bound) {
        for (String column : bound.keySet()) {
            if (!format.columns().contains(column)) {
                throw new IllegalArgumentException("key template '" + format.text() + "' has no column '" + column
                        + "' (its columns: " + format.columns() + ")");
            }
        }
        return format.glob(bound);
    }

    @Override
    public String toString() {
        return format.text();
    }
}
