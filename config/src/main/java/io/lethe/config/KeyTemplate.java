package io.lethe.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A cache key template such as {@code product:{id}:price}: literal text with {@code {column}}
 * placeholders filled from a row image. {@code {{} and {@code }}} stand for literal braces, so
 * {@code customer:{{{customer_id}}}:orders} renders a Redis Cluster hash tag
 * ({@code customer:{42}:orders}).
 */
public final class KeyTemplate {
    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final String text;
    /** Literal strings and column references, in order. */
    private final List<Part> parts;
    private final List<String> columns;
    /** {@link #matches}' expression, built on first use. */
    private volatile Pattern regex;

    private sealed interface Part permits Literal, Column { }

    private record Literal(String text) implements Part { }

    private record Column(String name) implements Part { }

    private KeyTemplate(String text, List<Part> parts) {
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
    public static KeyTemplate parse(String text) {
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
        return new KeyTemplate(text, parts);
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
     * Renders the key from a row image.
     *
     * @return empty when a column is present but null (the row has no such key)
     * @throws MissingColumnException when the row image does not carry a column at all
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
                key.append(value);
            }
        }
        return Optional.of(key.toString());
    }

    /**
     * True when this template could have rendered {@code key}: its literal parts in order, each
     * column standing for any non-empty text.
     */
    public boolean matches(String key) {
        return regex().matcher(key).matches();
    }

    private Pattern regex() {
        Pattern r = regex;
        if (r == null) {
            StringBuilder re = new StringBuilder();
            for (Part part : parts) {
                re.append(part instanceof Literal l ? Pattern.quote(l.text()) : "(.+?)");
            }
            r = Pattern.compile(re.toString(), Pattern.DOTALL);
            regex = r;
        }
        return r;
    }

    /** True when the template starts with a column, so its glob starts with {@code *}. */
    public boolean isUnprefixed() {
        return parts.isEmpty() || parts.get(0) instanceof Column;
    }

    /** A Redis MATCH glob covering every key this template can render. */
    public String glob() {
        StringBuilder glob = new StringBuilder();
        for (Part part : parts) {
            if (part instanceof Literal l) {
                glob.append(escapeGlob(l.text()));
            } else if (glob.length() == 0 || glob.charAt(glob.length() - 1) != '*') {
                glob.append('*');
            }
        }
        return glob.toString();
    }

    /** Escapes Redis glob metacharacters so {@code text} matches only itself. */
    public static String escapeGlob(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
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

    /** A row image lacks a column that a template needs. */
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
