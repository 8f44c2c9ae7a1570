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
 *
 * <p><b>Key format 2: values are escaped.</b> A column's text goes into the key with each of the
 * {@link #RESERVED} characters ({@code % : { } * ? [ ] \}) written as {@code %} and its two
 * upper-case hex digits ({@code a:b} → {@code a%3Ab}, {@code 100%} → {@code 100%25}); every other
 * character as it is. So a value can never render the separator {@code :}, a hash-tag brace or a
 * glob metacharacter: a row's value cannot make its key equal another row's or another template's
 * key ({@code user:{id}} with id {@code 1:profile} is {@code user:1%3Aprofile}, not
 * {@code user:1:profile}), cannot move the key's Redis Cluster hash tag, and a glob built from a
 * value ({@link #glob}) matches only keys of that value. The escaping is reversible
 * ({@link #unescape}). Key format 1 (before issue 34) put the text in as it was; the two agree
 * for every value without a reserved character.
 */
public final class KeyFormat {
    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** The key format version this class renders (docs/subscribing.md, "Keys" and "Upgrading from key format 1"). */
    public static final int VERSION = 2;
    /** The characters a value's text never shows as themselves in a key: each is written {@code %XX}. */
    public static final String RESERVED = "%:{}*?[]\\";
    /**
     * What one column renders to, as a regular expression: any character but the reserved ones, or
     * a reserved one escaped (upper-case hex, as {@link #escape} writes it).
     */
    public static final String ESCAPED_VALUE_REGEX = "(?:[^%:{}*?\\[\\]\\\\]|%(?:25|3A|7B|7D|2A|3F|5B|5D|5C))*";

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

    /**
     * True when this template could have rendered {@code key}: its literal parts in order, each
     * column standing for any escaped text ({@link #escape}: no reserved character as itself), the
     * empty text included.
     */
    public boolean matches(String key) {
        java.util.regex.Pattern r = escapedKeys;
        if (r == null) {
            r = keys("(" + ESCAPED_VALUE_REGEX + "?)");
            escapedKeys = r;
        }
        return r.matcher(key).matches();
    }

    /**
     * True when this template could have rendered {@code key} in any key format: its literal parts
     * in order, each column standing for any text, reserved characters included (key format 1 wrote
     * values as they were; an application may concatenate a key by hand).
     */
    public boolean mayHaveRendered(String key) {
        java.util.regex.Pattern r = anyKeys;
        if (r == null) {
            r = keys(".*?");
            anyKeys = r;
        }
        return r.matcher(key).matches();
    }

    private volatile java.util.regex.Pattern escapedKeys;
    private volatile java.util.regex.Pattern anyKeys;

    /** The literal parts, quoted, in order, each column as {@code column} (a regular expression). */
    private java.util.regex.Pattern keys(String column) {
        StringBuilder re = new StringBuilder();
        for (Part part : parts) {
            re.append(part instanceof Literal l ? java.util.regex.Pattern.quote(l.text()) : column);
        }
        return java.util.regex.Pattern.compile(re.toString(), java.util.regex.Pattern.DOTALL);
    }

    /** The columns the template reads, in order of first use. */
    public List<String> columns() {
        return columns;
    }

    /**
     * Renders the key: each column's value as {@link PgText#of} prints it, {@link #escape}d.
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
                key.append(escape(PgText.of(value)));
            }
        }
        return Optional.of(key.toString());
    }

    /** {@code text} as a key holds it: each {@link #RESERVED} character written {@code %XX} (upper-case hex). */
    public static String escape(String text) {
        return KeyEscaping.escape(text);
    }

    /**
     * The text {@link #escape} was given: the inverse, for a column's part of a key.
     *
     * @throws IllegalArgumentException when {@code escaped} is not something {@link #escape} writes
     *                                  (a reserved character as itself, a {@code %} not followed by
     *                                  the upper-case code of a reserved character)
     */
    public static String unescape(String escaped) {
        return KeyEscaping.unescape(escaped);
    }

    /**
     * A Redis MATCH glob for the keys this template renders with the columns of {@code bound}
     * holding those values and every other column any value: the literals and the bound values
     * glob-escaped, each unbound column a {@code *}.
     *
     * @throws IllegalArgumentException when a bound value is NULL (no key has it) or has no defined rendering
     */
    public String glob(Map<String, ?> bound) {
        StringBuilder glob = new StringBuilder();
        for (Part part : parts) {
            if (part instanceof Literal l) {
                glob.append(escapeGlob(l.text()));
            } else {
                String name = ((Column) part).name();
                if (bound != null && bound.containsKey(name)) {
                    Object value = bound.get(name);
                    if (value == null) {
                        throw new IllegalArgumentException("column '" + name + "' of key template '" + text
                                + "' is bound to NULL: no key has it");
                    }
                    glob.append(escapeGlob(escape(PgText.of(value))));
                } else if (glob.length() == 0 || glob.charAt(glob.length() - 1) != '*' || endsEscaped(glob)) {
                    glob.append('*');
                }
            }
        }
        return glob.toString();
    }

    private static boolean endsEscaped(StringBuilder glob) {
        int backslashes = 0;
        for (int i = glob.length() - 2; i >= 0 && glob.charAt(i) == '\\'; i--) {
            backslashes++;
        }
        return backslashes % 2 == 1;
    }

    /** Escapes Redis glob metacharacters ({@code * ? [ ] \}) so {@code text} matches only itself. */
    public static String escapeGlob(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
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
