package io.lethe.schemas;

import java.util.List;

/** Kafka header names Lethe writes. All values are UTF-8 strings. */
public final class Headers {
    /** On every event: the schema id of the value, e.g. {@code lethe.invalidation/v1}. */
    public static final String SCHEMA = "lethe.schema";

    /**
     * On every invalidation record invalidation-streams (and {@code lethe invalidate}) writes when
     * {@code streams.watermark-key} is set: HMAC-SHA256 of the record, hex ({@link RecordSignature}).
     * A region with the key applies only records whose signature verifies.
     */
    public static final String SIGNATURE = "lethe.signature";

    /**
     * On every record and watermark signed with {@code streams.watermark-key}: the id of the key
     * that signed it ({@link SigningKeys#keyId}, 8 hex digits that reveal nothing of the key), so
     * a verifier refusing it can say which key it was signed with, and {@code lethe lag} which key
     * each stage signs with. Not covered by any signature and never used to choose a key (a verifier
     * tries its current key and then its previous one whatever the id says): a forged id can only
     * mislead a message, never get a record accepted.
     */
    public static final String KEY_ID = "lethe.key-id";

    /**
     * On every upsert invalidation-streams writes: what the upsert's namespace's entries hold under
     * the configuration streams runs (its table, version source, mode, payload columns and row-scoped
     * key templates), as a short fingerprint ({@code NamespaceConfig.holdsFingerprint}, 16 hex
     * digits). A region consumer applies an upsert only when it carries its own configuration's
     * fingerprint of that namespace; one without it (a streams of an older release) or with another
     * (a streams still on another file) is applied as the delete at its version and dead-lettered as
     * {@code foreign-holds}. Not part of the {@link #SIGNATURE}: changing or removing it can only turn
     * an upsert into that delete, and putting the region's fingerprint on a signed upsert of another
     * configuration takes a copy of a record streams wrote, which the region's replay floor judges
     * like any copy (see the region's {@code HoldsStamp}). Deletes do not carry it.
     */
    public static final String HOLDS = "lethe.holds";

    /**
     * On sampled changes and the invalidations streams makes of them, with {@code tracing.endpoint}
     * set: the W3C trace context ({@code 00-<trace id>-<span id>-<flags>}) of the stage that wrote
     * the record, so capture's, streams' and each region's spans form one trace. Absent on every
     * other record; a reader that does not trace ignores it.
     */
    public static final String TRACEPARENT = "traceparent";

    /** DLQ: a short machine-readable reason, one of {@link DlqReason}'s codes. */
    public static final String DLQ_REASON = "lethe.dlq.reason";
    /** DLQ: a human-readable description of what was wrong. */
    public static final String DLQ_ERROR = "lethe.dlq.error";
    /** DLQ: the exception class that reported it, when there was one. */
    public static final String DLQ_EXCEPTION = "lethe.dlq.exception";
    /** DLQ: the stage that refused the record: capture, streams, region:&lt;name&gt; or manual. */
    public static final String DLQ_STAGE = "lethe.dlq.stage";
    /** DLQ: the topic the original record was read from. */
    public static final String DLQ_SOURCE_TOPIC = "lethe.dlq.source.topic";
    /** DLQ: the partition the original record was read from. */
    public static final String DLQ_SOURCE_PARTITION = "lethe.dlq.source.partition";
    /** DLQ: the offset of the original record. */
    public static final String DLQ_SOURCE_OFFSET = "lethe.dlq.source.offset";
    /** DLQ: epoch milliseconds when the record was dead-lettered. */
    public static final String DLQ_TIMESTAMP = "lethe.dlq.timestamp";
    /**
     * DLQ: present when the original value was larger than the DLQ keeps whole; its original
     * length in bytes. The value is then the first part only: readable, not replayable.
     */
    public static final String DLQ_TRUNCATED = "lethe.dlq.truncated";
    /** Set on records re-published by {@code lethe dlq replay}: the DLQ offset they came from. */
    public static final String REPLAYED_FROM = "lethe.replayed.from";

    /** Every header a DLQ record carries. */
    public static final List<String> DLQ_SET = List.of(DLQ_REASON, DLQ_ERROR, DLQ_STAGE,
            DLQ_SOURCE_TOPIC, DLQ_SOURCE_PARTITION, DLQ_SOURCE_OFFSET, DLQ_TIMESTAMP);

    private Headers() {
    }
}
