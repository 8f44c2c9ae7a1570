package io.lethe.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One committed row change (or a table/namespace-wide event) as published on
 * {@code lethe.changes}, schema {@value #SCHEMA_ID}. See {@code docs/subscribing.md}.
 *
 * @param schema       always {@value #SCHEMA_ID}
 * @param id           stable id of this change, the same on every redelivery: use it to dedupe
 * @param source       database, schema and table the change came from
 * @param op           c, u, d, t (truncate) or reset (changes may have been lost)
 * @param key          primary-key columns of the row; absent for t and reset
 * @param before       old row image (only the columns Lethe needs), when PostgreSQL sent one
 * @param after        new row image (only the columns Lethe needs); absent for d, t, reset
 * @param version      the version caches compare: the change's LSN, as a decimal string
 * @param lsn          the LSN of the row change (or, for reset, the LSN at which capture resumed)
 * @param txId         PostgreSQL transaction id; absent for reset
 * @param commitTs     commit time, epoch microseconds (for latency only, never for ordering)
 * @param capturedAt   when Lethe read the change, epoch microseconds
 * @param namespace    the namespace a reset concerns; absent otherwise
 * @param originRegion the region whose database produced the change, when configured
 * @param commitLsn    the LSN of the transaction's COMMIT record (a standby shows the change once
 *                     it replayed past it); absent when capture published before it saw the commit
 *                     (a transaction too large to hold back: a namespace-wide reset follows it)
 * @param text         optional (added with issue 27): the key-template columns as PostgreSQL prints
 *                     them, which templates render; absent from a capture that predates it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChangeEvent(
        @JsonProperty(value = "schema", required = true) String schema,
        @JsonProperty(value = "id", required = true) String id,
        @JsonProperty(value = "source", required = true) SourceTable source,
        @JsonProperty(value = "op", required = true) Op op,
        @JsonProperty("key") Map<String, Object> key,
        @JsonProperty("before") Map<String, Object> before,
        @JsonProperty("after") Map<String, Object> after,
        @JsonProperty(value = "version", required = true) String version,
        @JsonProperty(value = "lsn", required = true) long lsn,
        @JsonProperty("txId") Long txId,
        @JsonProperty(value = "commitTs", required = true) long commitTs,
        @JsonProperty(value = "capturedAt", required = true) long capturedAt,
        @JsonProperty("namespace") String namespace,
        @JsonProperty("originRegion") String originRegion,
        @JsonProperty("commitLsn") Long commitLsn,
        @JsonProperty("text") ColumnText text) {

    public static final String SCHEMA_ID = "lethe.change/v1";
    /**
     * The value of a column PostgreSQL did not send in this change (an unchanged TOASTed value
     * in an UPDATE): the column exists, its value is unknown here.
     */
    public static final String UNAVAILABLE_VALUE = "__lethe_unavailable__";
    /**
     * In {@link #text()}: the value of a column capture could not turn into PostgreSQL's text (a
     * type without a defined key rendering met at run time); its keys are invalidated by glob.
     */
    public static final String UNRENDERABLE_VALUE = "__lethe_unrenderable__";

    public ChangeEvent {
        if (!SCHEMA_ID.equals(Fields.require("schema", schema))) {
            throw new SchemaViolationException("schema", "must be " + SCHEMA_ID + ", was '" + schema + "'");
        }
        Fields.require("id", id);
        Fields.require("source", source);
        Fields.require("op", op);
        Fields.requireDecimal("version", version);
        Fields.requireNonNegative("lsn", lsn);
        Fields.requireNonNegative("commitTs", commitTs);
        Fields.requireNonNegative("capturedAt", capturedAt);
        if (commitLsn != null && commitLsn < lsn) {
            throw new SchemaViolationException("commitLsn", "must not be below lsn " + lsn + ", was " + commitLsn);
        }
        key = copy(key);
        before = copy(before);
        after = copy(after);
        switch (op) {
            case CREATE, UPDATE -> {
                Fields.require("key", key);
                Fields.require("after", after);
            }
            case DELETE -> Fields.require("key", key);
            case RESET -> Fields.require("namespace", namespace);
            case TRUNCATE -> {
            }
            case MANUAL -> throw new SchemaViolationException("op", "manual is only valid on invalidation events");
        }
    }

    /** A change without the columns' text (see {@link #text()}). */
    public ChangeEvent(String schema, String id, SourceTable source, Op op, Map<String, Object> key, Map<String, Object> before,
            Map<String, Object> after, String version, long lsn, Long txId, long commitTs, long capturedAt,
            String namespace, String originRegion, Long commitLsn) {
        this(schema, id, source, op, key, before, after, version, lsn, txId, commitTs, capturedAt, namespace, originRegion, commitLsn,
                null);
    }

    /** A change without a known commit LSN. */
    public ChangeEvent(String schema, String id, SourceTable source, Op op, Map<String, Object> key, Map<String, Object> before,
            Map<String, Object> after, String version, long lsn, Long txId, long commitTs, long capturedAt,
            String namespace, String originRegion) {
        this(schema, id, source, op, key, before, after, version, lsn, txId, commitTs, capturedAt, namespace, originRegion, null, null);
    }

    /** This change with the LSN of its transaction's COMMIT record. */
    public ChangeEvent withCommitLsn(long lsnOfCommit) {
        return new ChangeEvent(schema, id, source, op, key, before, after, version, lsn, txId, commitTs, capturedAt, namespace,
                originRegion, lsnOfCommit, text);
    }

    /** This change (a reset) for namespace {@code other}, with the id a reset of that namespace at its LSN has. */
    public ChangeEvent forNamespace(String other) {
        String mine = resetId(lsn, namespace);
        String otherId = id.contains(mine) ? id.replace(mine, resetId(lsn, other)) : id + ":as:" + other;
        return new ChangeEvent(schema, otherId, source, op, key, before, after, version, lsn, txId, commitTs, capturedAt, other,
                originRegion, commitLsn, text);
    }

    /** This change with its key-template columns as PostgreSQL prints them. */
    public ChangeEvent withText(ColumnText columnText) {
        return new ChangeEvent(schema, id, source, op, key, before, after, version, lsn, txId, commitTs, capturedAt, namespace,
                originRegion, commitLsn, columnText);
    }

    /** The position a standby must have replayed past to show this change: the commit LSN when known, else the change's. */
    public long visibleAfter() {
        return commitLsn != null ? commitLsn : lsn;
    }

    /** The id of a row change: unique because every row change has its own LSN. */
    public static String rowChangeId(long lsn, SourceTable source) {
        return lsn + ":" + source.qualifiedName();
    }

    /** The id of a namespace reset emitted when capture resumed at {@code lsn}. */
    public static String resetId(long lsn, String namespace) {
        return lsn + ":reset:" + namespace;
    }

    /** The Kafka record key on {@code lethe.changes}: {@code <schema>.<table>:<pk values>}. */
    public String recordKey() {
        return recordKey(source, key);
    }

    /** {@code <schema>.<table>:<pk values joined by ','>}, or just the table for t and reset. */
    public static String recordKey(SourceTable source, Map<String, Object> key) {
        if (key == null || key.isEmpty()) {
            return source.qualifiedName();
        }
        StringBuilder sb = new StringBuilder(source.qualifiedName()).append(':');
        boolean first = true;
        for (Object value : key.values()) {
            if (!first) {
                sb.append(',');
            }
            sb.append(value);
            first = false;
        }
        return sb.toString();
    }

    /** A map that keeps insertion order and null values, and cannot be changed. */
    static Map<String, Object> copy(Map<String, Object> map) {
        return map == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }
}
