package io.lethe.schemas;

/** Why a record went to the dead-letter topic; the code is the {@link Headers#DLQ_REASON} value. */
public enum DlqReason {
    /** The bytes are not JSON, or the JSON does not satisfy the event schema. */
    MALFORMED("malformed"),
    /** The change names a table no namespace is configured for. */
    UNKNOWN_TABLE("unknown-table"),
    /** A key template or payload needs a column the event does not carry. */
    MISSING_COLUMN("missing-column"),
    /** A rendered key is longer than the configured maximum. */
    KEY_TOO_LONG("key-too-long"),
    /** A version column holds something that is not a non-negative integer. */
    BAD_VERSION("bad-version"),
    /** A pattern would match every key (or a whole namespace without permission). */
    MATCH_ALL_PATTERN("match-all-pattern"),
    /** An invalidation names a namespace the region does not know. */
    UNKNOWN_NAMESPACE("unknown-namespace");

    private final String code;

    DlqReason(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }
}
