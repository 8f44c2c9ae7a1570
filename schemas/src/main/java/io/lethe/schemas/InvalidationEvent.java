package io.lethe.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One cache invalidation as published on {@code lethe.invalidations} (every region) and
 * the region topics ({@code lethe.invalidations.subs-<fingerprint>}, one per subscription set), schema {@value #SCHEMA_ID}. Keyed by {@link #target()}
 * so all events of a key share a partition. See {@code docs/subscribing.md}.
 *
 * @param schema       always {@value #SCHEMA_ID}
 * @param id           stable id, the same on every redelivery: use it to dedupe
 * @param namespace    the namespace (from {@code lethe.yml}) the key belongs to
 * @param scope        row, derived, pattern or namespace
 * @param key          the cache key; set exactly when scope is row or derived
 * @param pattern      a Redis glob over cache keys; set exactly when scope is pattern or namespace
 * @param action       delete, or upsert (then {@code payload} is set)
 * @param payload      for upsert: the exact UTF-8 text to store in the entry's {@code d} field
 * @param version      the version to compare, decimal string; "0" for derived keys
 * @param lsn          LSN of the change (for the replica gate and for lag)
 * @param txId         PostgreSQL transaction id, when there was one
 * @param commitTs     commit time, epoch microseconds (latency only)
 * @param capturedAt   when capture read the change, epoch microseconds
 * @param emittedAt    when this invalidation was produced, epoch microseconds
 * @param source       the table the change came from; absent for manual purges
 * @param op           the originating operation (c, u, d, t, reset, manual)
 * @param changeId     the id of the {@link ChangeEvent} this came from, when there was one
 * @param originRegion the region whose database produced the change, when configured
 * @param commitLsn    LSN of the transaction's COMMIT record, when known: a read replica shows the
 *                     change only once it has replayed past it (the replica gate waits for it)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InvalidationEvent(
        @JsonProperty(value = "schema", required = true) String schema,
        @JsonProperty(value = "id", required = true) String id,
        @JsonProperty(value = "namespace", required = true) String namespace,
        @JsonProperty(value = "scope", required = true) Scope scope,
        @JsonProperty("key") String key,
        @JsonProperty("pattern") String pattern,
        @JsonProperty(value = "action", required = true) Action action,
        @JsonProperty("payload") String payload,
        @JsonProperty(value = "version", required = true) String version,
        @JsonProperty(value = "lsn", required = true) long lsn,
        @JsonProperty("txId") Long txId,
        @JsonProperty(value = "commitTs", required = true) long commitTs,
        @JsonProperty(value = "capturedAt", required = true) long capturedAt,
        @JsonProperty(value = "emittedAt", required = true) long emittedAt,
        @JsonProperty("source") SourceTable source,
        @JsonProperty(value = "op", required = true) Op op,
        @JsonProperty("changeId") String changeId,
        @JsonProperty("originRegion") String originRegion,
        @JsonProperty("commitLsn") Long commitLsn) {

    public static final String SCHEMA_ID = "lethe.invalidation/v1";

    public InvalidationEvent {
        if (!SCHEMA_ID.equals(Fields.require("schema", schema))) {
            throw new SchemaViolationException("schema", "must be " + SCHEMA_ID + ", was '" + schema + "'");
        }
        Fields.require("id", id);
        Fields.require("namespace", namespace);
        Fields.require("scope", scope);
        Fields.require("action", action);
        Fields.require("op", op);
        Fields.requireDecimal("version", version);
        Fields.requireNonNegative("lsn", lsn);
        Fields.requireNonNegative("commitTs", commitTs);
        Fields.requireNonNegative("capturedAt", capturedAt);
        Fields.requireNonNegative("emittedAt", emittedAt);
        if (scope.isPattern()) {
            Fields.require("pattern", pattern);
            if (key != null) {
                throw new SchemaViolationException("key", "must be absent when scope is " + scope.code());
            }
            if (action == Action.UPSERT) {
                throw new SchemaViolationException("action", "upsert needs a key, not a pattern");
            }
        } else {
            Fields.require("key", key);
            if (pattern != null) {
                throw new SchemaViolationException("pattern", "must be absent when scope is " + scope.code());
            }
        }
        if (action == Action.UPSERT) {
            Fields.require("payload", payload);
            if (scope != Scope.ROW) {
                throw new SchemaViolationException("action", "upsert is only valid for row-scoped keys");
            }
        } else if (payload != null) {
            throw new SchemaViolationException("payload", "must be absent unless action is upsert");
        }
        if (scope == Scope.DERIVED && !"0".equals(version)) {
            throw new SchemaViolationException("version", "must be 0 for derived keys, was " + version);
        }
    }

    /** An invalidation without a known commit LSN. */
    public InvalidationEvent(String schema, String id, String namespace, Scope scope, String key, String pattern, Action action,
            String payload, String version, long lsn, Long txId, long commitTs, long capturedAt, long emittedAt,
            SourceTable source, Op op, String changeId, String originRegion) {
        this(schema, id, namespace, scope, key, pattern, action, payload, version, lsn, txId, commitTs, capturedAt, emittedAt,
                source, op, changeId, originRegion, null);
    }

    /** The position a read replica must have replayed past to show the change: the commit LSN when known, else the change's. */
    public long visibleAfter() {
        return commitLsn != null ? commitLsn : lsn;
    }

    /** The key or pattern: the Kafka record key on the invalidation topics. */
    public String target() {
        return key != null ? key : pattern;
    }

    /** The stable id of the invalidation of {@code target} caused by change {@code changeId}. */
    public static String idFor(String changeId, Scope scope, String target) {
        return changeId + "/" + scope.code() + "/" + Long.toHexString(fnv1a64(target));
    }

    /** Returns a copy with {@code emittedAt} set. */
    public InvalidationEvent withEmittedAt(long emittedAtMicros) {
        return new InvalidationEvent(schema, id, namespace, scope, key, pattern, action, payload, version, lsn,
                txId, commitTs, capturedAt, emittedAtMicros, source, op, changeId, originRegion, commitLsn);
    }

    private static long fnv1a64(String s) {
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            hash ^= s.charAt(i);
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /** The same invalidation as a version-checked delete, without payload (an upsert that cannot be applied as one). */
    public InvalidationEvent asDelete() {
        return new InvalidationEvent(schema, id, namespace, scope, key, pattern, Action.DELETE, null, version, lsn, txId, commitTs,
                capturedAt, emittedAt, source, op, changeId, originRegion, commitLsn);
    }
}
