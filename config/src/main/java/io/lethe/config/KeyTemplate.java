package io.lethe.config;

import io.lethe.schemas.keys.KeyFormat;
import io.lethe.schemas.keys.PgText;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A cache key template such as {@code product:{id}:price}: literal text with {@code {column}}
 * placeholders filled from a row image, each with the text PostgreSQL prints for the value
 * ({@link KeyFormat}, the parser and renderer applications share through cache-client). {@code {{} and {@code }}} stand for literal braces, so
 * {@code customer:{{{customer_id}}}:orders} renders a Redis Cluster hash tag
 * ({@code customer:{42}:orders}).
 */
public final class KeyTemplate {
    private final String text;
    /** The parsed template and its renderer, shared with applications (cache-client's Keys). */
    private final KeyFormat format;
    /** Literal strings and column references, in order. */
    private final List<KeyFormat.Part> parts;
    private final List<String> columns;

    private KeyTemplate(KeyFormat format) {
        this.text = format.text();
        this.format = format;
        this.parts = format.parts();
        this.columns = format.columns();
    }

    /**
     * Parses a template.
     *
     * @throws IllegalArgumentException saying what is wrong and where
     */
    public static KeyTemplate parse(String text) {
        return new KeyTemplate(KeyFormat.parse(text));
    }

    /** The template as written in the configuration. */
    public String text() {
        return text;
    }

    /** The columns the template reads, in order of first use. */
    public List<String> columns() {
        return columns;
    }

    /**
     * True when every column is part of the primary key: the key names one row, so its entries
     * may carry the row's version. A template without columns is shared by all rows: derived.
     */
    public boolean isRowScoped(Collection<String> primaryKey) {
        return !columns.isEmpty() && primaryKey.containsAll(columns);
    }

    /**
     * Renders the key from a row image, each value as PostgreSQL prints it ({@link PgText}).
     *
     * @return empty when a column is present but null (the row has no such key)
     * @throws KeyFormat.MissingColumnException when the row image does not carry a column at all
     */
    public Optional<String> render(Map<String, ?> row) {
        return format.render(row);
    }

    /**
     * True when this template could have rendered {@code key}: its literal parts in order, each
     * column standing for any escaped text ({@link KeyFormat#escape}: no reserved character as
     * itself), the empty text included (a text column holding '', a char(n) of spaces).
     */
    public boolean matches(String key) {
        return format.matches(key);
    }

    /**
     * True when this template could have rendered {@code key} in any key format: its literal parts
     * in order, each column standing for any text, reserved characters included (key format 1 wrote
     * values as they were; an application may concatenate a key by hand). A namespace-wide sweep
     * deletes such keys too: deleting one more entry costs a miss, leaving one costs a stale value.
     */
    public boolean mayHaveRendered(String key) {
        return format.mayHaveRendered(key);
    }

    /**
     * The column values a key was rendered from, unescaped, each the text PostgreSQL prints for it (so a
     * query can find the row with {@code col::text = ?}): the inverse of {@link #render}.
     *
     * @return empty when the template could not have rendered {@code key}, when a column used twice
     *         would need two values, or when the key parses more than one way (two columns with a
     *         separator that also occurs in a value: no single row to compare with)
     */
    public Optional<Map<String, String>> values(String key) {
        Optional<Map<String, String>> shortest = parse(key, "(" + KeyFormat.ESCAPED_VALUE_REGEX + "?)");
        if (shortest.isEmpty()) {
            return shortest;
        }
        return shortest.equals(parse(key, "(" + KeyFormat.ESCAPED_VALUE_REGEX + ")")) ? shortest : Optional.empty();
    }

    /**
     * The column values a key of key format 1 was rendered from ({@link #mayHaveRendered}: each value
     * written as it was, reserved characters included, not escaped): what a namespace rendered before
     * key format 2, or an application concatenated by hand.
     *
     * @return empty when the template could not have rendered {@code key} that way, when a column used
     *         twice would need two values, or when the key parses more than one way (a value holding
     *         the text that follows its column)
     */
    public Optional<Map<String, String>> valuesAsWritten(String key) {
        Optional<Map<String, String>> shortest = parse(key, "(.*?)", false);
        if (shortest.isEmpty()) {
            return shortest;
        }
        return shortest.equals(parse(key, "(.*)", false)) ? shortest : Optional.empty();
    }

    private Optional<Map<String, String>> parse(String key, String group) {
        return parse(key, group, true);
    }

    private Optional<Map<String, String>> parse(String key, String group, boolean escaped) {
        StringBuilder re = new StringBuilder();
        List<String> order = new java.util.ArrayList<>();
        for (KeyFormat.Part part : parts) {
            if (part instanceof KeyFormat.Literal l) {
                re.append(Pattern.quote(l.text()));
            } else {
                re.append(group);
                order.add(((KeyFormat.Column) part).name());
            }
        }
        java.util.regex.Matcher m = Pattern.compile(re.toString(), Pattern.DOTALL).matcher(key);
        if (!m.matches()) {
            return Optional.empty();
        }
        Map<String, String> values = new java.util.LinkedHashMap<>();
        for (int i = 0; i < order.size(); i++) {
            String value = escaped ? KeyFormat.unescape(m.group(i + 1)) : m.group(i + 1);
            String previous = values.putIfAbsent(order.get(i), value);
            if (previous != null && !previous.equals(value)) {
                return Optional.empty();
            }
        }
        return Optional.of(values);
    }

    /** True when the template starts with a column, so its glob starts with {@code *}. */
    public boolean isUnprefixed() {
        return parts.isEmpty() || parts.get(0) instanceof KeyFormat.Column;
    }

    /** A Redis MATCH glob covering every key this template can render. */
    public String glob() {
        return format.glob(Map.of());
    }

    /**
     * True when {@code glob} matches every key this template renders from non-empty values (each
     * column at least one character): a glob that covers the template's key space, judged by what
     * it matches ({@link Patterns#within}), not by its text: {@code product:*},
     * {@code product:**} and {@code product:?*} cover {@code product:{id}}, {@code product:1*} does not.
     */
    public boolean isCoveredBy(String glob) {
        if (glob().equals(glob)) {
            return true;
        }
        StringBuilder nonEmpty = new StringBuilder();
        for (KeyFormat.Part part : parts) {
            nonEmpty.append(part instanceof KeyFormat.Literal l ? escapeGlob(l.text()) : "?*");
        }
        return Patterns.within(nonEmpty.toString(), List.of(glob));
    }

    /** Escapes Redis glob metacharacters so {@code text} matches only itself ({@link KeyFormat#escapeGlob}). */
    public static String escapeGlob(String text) {
        return KeyFormat.escapeGlob(text);
    }

    /**
     * A glob for the keys this template renders with the columns of {@code bound} holding those
     * values, every other column any value ({@link KeyFormat#glob}).
     */
    public String glob(Map<String, ?> bound) {
        return format.glob(bound);
    }

    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyTemplate other && text.equals(other.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
