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
    /** A version column holds something that is not a non-negative integer at most 2^64 - 1. */
    BAD_VERSION("bad-version"),
    /**
     * The old row image lacks a column a key template needs (REPLICA IDENTITY changed after
     * start-up, or a DELETE without it): the old key cannot be rendered.
     */
    MISSING_OLD_IMAGE("missing-old-image"),
    /** A key template column holds PostgreSQL's unchanged-TOAST placeholder in every image. */
    UNAVAILABLE_VALUE("unavailable-value"),
    /**
     * A key template column holds a value capture could not turn into PostgreSQL's text (a type
     * without a defined key rendering, met at run time after a column was retyped).
     */
    UNRENDERABLE_VALUE("unrenderable-value"),
    /** A pattern would match every key in Redis. */
    MATCH_ALL_PATTERN("match-all-pattern"),
    /** A pattern covers a whole namespace whose config does not set {@code allow-namespace-wide}. */
    NAMESPACE_WIDE_PATTERN("namespace-wide-pattern"),
    /** An invalidation names a namespace the region does not know. */
    UNKNOWN_NAMESPACE("unknown-namespace"),
    /**
     * The record is larger than Kafka accepts. Capture publishes a namespace-wide reset of its
     * table instead; the DLQ keeps the record's first part ({@link Headers#DLQ_TRUNCATED}).
     */
    RECORD_TOO_LARGE("record-too-large"),
    /**
     * Redis refused the script for this key with WRONGTYPE: something other than Lethe wrote a
     * key of another type where Lethe keeps its fence. The region deleted the entry and the
     * foreign key and fenced the key at the highest version instead.
     */
    REDIS_WRONGTYPE("redis-wrongtype"),
    /**
     * Redis refused an upsert because it is at {@code maxmemory} under {@code noeviction}. The
     * region deleted the key instead (deletes and fences are allowed when Redis is full).
     */
    REDIS_OOM("redis-oom"),
    /** Redis refused the script for this key with another error; the region deleted the key instead. */
    REDIS_REFUSED("redis-refused"),
    /**
     * An invalidation's key is not one its namespace's key templates can render (a key of another
     * namespace, a free-form key): not applied. Trust no topic: whoever can write to a region topic
     * must not be able to delete or overwrite keys outside the namespace it names.
     */
    FOREIGN_KEY("foreign-key"),
    /** An invalidation names one of Lethe's own keys ({@code lethe:}: fences, epochs, watermarks, checkpoints): not applied. */
    RESERVED_KEY("reserved-key"),
    /** An upsert in a namespace not configured with {@code mode: upsert}: not applied. */
    UPSERT_NOT_CONFIGURED("upsert-not-configured"),
    /**
     * A version outside what the pipeline can produce: in an {@code lsn} namespace one that is not the
     * event's own LSN, or an LSN beyond the region's last watermark by more than
     * {@code apply.max-lsn-lead-mib}; an upsert of a {@code column:} namespace above 2^63 - 1. Not applied.
     */
    VERSION_OUT_OF_RANGE("version-out-of-range"),
    /**
     * A pattern the namespace's configuration does not produce and that could match a key no
     * template or pattern of the namespace renders ({@code *:*}, {@code [a-z]*}, another
     * namespace's keys): not applied.
     */
    FOREIGN_PATTERN("foreign-pattern"),
    /**
     * A watermark record whose headers are incomplete, or whose signature does not verify with
     * {@code streams.watermark-key}: not merged into the region's watermark.
     */
    UNTRUSTED_WATERMARK("untrusted-watermark"),
    /**
     * With {@code streams.watermark-key} set, a record whose {@link Headers#SIGNATURE} is missing or
     * does not verify ({@link RecordSignature}): on a region topic, an upsert the region's rules admit
     * (not written by Lethe's streams application or {@code lethe invalidate}): not applied; on the
     * changes topic, a change not written by capture: mapped into deletes only (its upserts as the
     * delete at their version) and dead-lettered for audit.
     */
    UNTRUSTED_RECORD("untrusted-record"),
    /**
     * An upsert on a region topic rendered under other rules than the region's configuration for its
     * namespace: its {@link Headers#HOLDS} is missing (a streams of an older release) or names what
     * another configuration's entries hold (a streams instance still on another file: another
     * table, version source, mode, payload columns or row-scoped key template). Applied as the delete
     * at its version instead (an entry at an LSN in a namespace now versioned by a column would
     * never be reached again; a payload of another shape would be served until the next change) and
     * dead-lettered for audit: nothing needs replaying.
     */
    FOREIGN_HOLDS("foreign-holds"),
    /**
     * The key lies outside the key patterns of the region's Redis ACL user: Redis refuses every
     * command on it, so it is dead-lettered alone (not widened: that is refused too) and the region
     * goes on. Either the ACL is narrower than the namespaces' templates or the key is not Lethe's.
     */
    REDIS_KEY_DENIED("redis-key-denied"),
    /**
     * A manual purge request on {@link Topics#invalidationRequests()} that streams does not route: not a
     * delete, or not a manual one (an upsert, a reset, a payload), or with a version or LSN no manual purge
     * carries. Purges are requested by whoever may write that topic (applications): streams signs what it
     * routes, so it routes nothing but a delete within its namespace's rules.
     */
    REFUSED_REQUEST("refused-request");

    private final String code;

    DlqReason(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }
}
