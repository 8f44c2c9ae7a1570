package io.lethe.schemas;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What happened at the source. */
public enum Op {
    /** A row was inserted. */
    CREATE("c"),
    /** A row was updated. */
    UPDATE("u"),
    /** A row was deleted. */
    DELETE("d"),
    /** The table was truncated: every row is gone. */
    TRUNCATE("t"),
    /**
     * Changes may have been lost (the replication slot was dropped or invalidated): everything
     * in the namespace must be treated as stale.
     */
    RESET("reset"),
    /** An operator purged keys by hand ({@code lethe invalidate}); only on invalidation events. */
    MANUAL("manual");

    private final String code;

    Op(String code) {
        this.code = code;
    }

    @JsonValue
    public String code() {
        return code;
    }

    @JsonCreator
    public static Op fromCode(String code) {
        for (Op op : values()) {
            if (op.code.equals(code)) {
                return op;
            }
        }
        throw new SchemaViolationException("op", "must be one of c, u, d, t, reset, manual; was '" + code + "'");
    }

    /** True for operations that concern the whole table or namespace rather than one row. */
    public boolean isNamespaceWide() {
        return this == TRUNCATE || this == RESET;
    }
}
