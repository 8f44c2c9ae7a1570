package io.lethe.schemas.keys;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A cache key template such as {@code product:{id}:price}, parsed, and rendered from column
 * values with {@link PgText}: the one implementation Lethe's pipeline and applications (through
 * cache-client's {@code Keys}) share. {@code {{} and {@code }}} stand for literal braces, so
 * {@code customer:{{{customer_id}}}:orders} renders a Redis Cluster hash tag
 * ({@code customer:{42}:orders}).
 */
public final class KeyFormat {
    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** A literal piece of text or a column reference. */
    public sealed interface Part permits Literal, Column {
    }

    public record Literal(String text) implements Part {
    }

    public record Column(String name) implements Part {
    }

    private final String text;
    private final List<Part> parts;
    private final List<String> columns;

    private KeyFormat(String text, List<Part> parts) {
        this.text = text;
        this.parts = List.copyOf(parts);
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (Part part : parts) {
            if (part instanceof Column c) {
                names.add(c.name());
            }
        }
        this.columns = List.copyOf(names);
    }

    /**
     * Parses a template.
     *
     * @throws IllegalArgumentException saying what is wrong and where
     */
    public static KeyFormat parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("a key template must not be empty");
        }
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '{' && i + 1 < text.length() && text.charAt(i + 1) == '{') {
                literal.append('{');
                i += 2;
            } else if (c == '}' && i + 1 < text.length() && text.charAt(i + 1) == '}') {
                literal.append('}');
                i += 2;
            } else if (c == '{') {
                int close = text.indexOf('}', i + 1);
                if (close < 0) {
                    throw new IllegalArgumentException("unclosed '{' at position " + i + " in '" + text
                            + "'; write {column} for a column, {{ and }} for literal braces");
                }
                String name = text.substring(i + 1, close);
                if (!COLUMN.matcher(name).matches()) {
                    throw new IllegalArgumentException("'{" + name + "}' at position " + i + " in '" + text
                            + "' is not a column name (letters, digits, underscore)");
                }
                if (literal.length() > 0) {
                    parts.add(new Literal(literal.toString()));
                    literal.setLength(0);
                }
                parts.add(new Column(name));
                i = close + 1;
            } else if (c == '}') {
                throw new IllegalArgumentException("unmatched '}' at position " + i + " in '" + text
                        + "'; write }} for a literal brace");
            } else {
                literal.append(c);
                i++;
            }
        }
        if (literal.length() > 0) {
            parts.add(new Literal(literal.toString()));
        }
        return new KeyFormat(text, parts);
    }

    /** The template as written. */
    public String text() {
        return text;
    }

    /** Literal strings and column references, in order. */
    public List<Part> parts() {
        return parts;
    }

    /** The columns the template reads, in order of first use. */
    public List<String> columns() {
        return columns;
    }

    /**
     * Renders the key: each column's value as {@link PgText#of} prints it.
     *
     * @return empty when a column is present but null (the row has no such key)
     * @throws MissingColumnException when {@code row} does not carry a column at all
     * @throws IllegalArgumentException when a value has no defined rendering
     */
    public Optional<String> render(Map<String, ?> row) {
        StringBuilder key = new StringBuilder();
        for (Part part : parts) {
            if (part instanceof Literal l) {
                key.append(l.text());
            } else {
                String name = ((Column) part).name();
                if (row == null || !row.containsKey(name)) {
                    throw new MissingColumnException(name, text);
                }
                Object value = row.get(name);
                if (value == null) {
                    return Optional.empty();
                }
                key.append(PgText.of(value));
            }
        }
        return Optional.of(key.toString());
    }

    @Override
    public String toString() {
        return text;
    }

    /** The values lack a column the template needs. */
    public static final class MissingColumnException extends RuntimeException {
        private final String column;

        public MissingColumnException(String column, String template) {
            super("column '" + column + "' needed by key template '" + template + "' is not in the event");
            this.column = column;
        }

        public String column() {
            return column;
        }
    }
}
