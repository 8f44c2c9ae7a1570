package io.lethe.schemas;

/**
 * An event does not satisfy its schema. {@link #field()} names the offending field as a JSON
 * path (for example {@code source.table}) or, for bytes that are not JSON at all, the byte offset.
 */
public class SchemaViolationException extends IllegalArgumentException {
    private final String field;

    public SchemaViolationException(String field, String problem) {
        this(field, problem, null);
    }

    public SchemaViolationException(String field, String problem, Throwable cause) {
        super(field + ": " + problem, cause);
        this.field = field;
    }

    /** The JSON path of the offending field, or {@code offset <n>} for unparseable bytes. */
    public String field() {
        return field;
    }
}
