package io.lethe.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalLong;
import org.apache.kafka.common.header.Header;

/**
 * A watermark record: capture's heartbeat commit, carried through every stage to every region so
 * each stage can say how far behind the primary it is even when no change flows. Capture writes
 * one to every partition of the changes topic for each heartbeat it captures; invalidation-streams
 * forwards each to every partition of every region topic (never to the public topic). A region
 * that applied everything before a watermark is caught up to that commit time.
 *
 * <p>The record's key is {@link #KEY} (a key no cache key can be: {@code lethe:} is Lethe's), its
 * value is empty, and its headers say the rest: {@link #COMMIT_TS} (the heartbeat's commit time,
 * epoch microseconds, decimal), {@link #LSN} (its commit LSN), {@link #HISTORY} (the
 * {@link SourceHistory} its LSN belongs to) and, from streams on, {@link #SOURCE} (the changes
 * topic partition it came through). Consumers of the changes and region topics skip records with
 * this key.
 *
 * @param commitTs  the heartbeat's commit time, epoch microseconds
 * @param lsn       its commit LSN
 * @param source    the changes topic partition it came through, or -1 on the changes topic itself
 * @param history   the source history its LSN is a position in ({@link SourceHistory}); null when
 *                  unknown (a heartbeat written before capture recorded it)
 * @param shard     the capture shard whose heartbeat it is ({@link #SHARD}); null for a single capture. A
 *                  heartbeat of one shard says nothing of another shard's tables: every stage that
 *                  aggregates watermarks keeps them per (shard, changes partition) and takes the oldest
 */
public record Watermark(long commitTs, long lsn, int source, String history, String shard) {
    /** The record key of every watermark. */
    public static final String KEY = "lethe:watermark";
    public static final String COMMIT_TS = "lethe.watermark.commit-ts";
    public static final String LSN = "lethe.watermark.lsn";
    public static final String SOURCE = "lethe.watermark.source";
    public static final String HISTORY = "lethe.watermark.history";
    /** The capture shard that wrote the watermark; absent for a single capture. Covered by the signature. */
    public static final String SHARD = "lethe.watermark.shard";
    /**
     * HMAC-SHA256 of the watermark's fields with {@code streams.watermark-key}, hex: set by
     * invalidation-streams when the key is configured; a region with the key merges only
     * watermarks whose signature verifies ({@link #verifies}).
     */
    public static final String SIGNATURE = "lethe.watermark.signature";
    /**
     * What the topic the watermark was written to carries, as invalidation-streams' configuration
     * routes it ({@code LetheConfig.routes}): a region waiting for streams to run its own
     * configuration waits for this value. Covered by the signature.
     */
    public static final String ROUTES = "lethe.watermark.routes";
    /**
     * What the capture that wrote the watermark captures ({@code LetheConfig.captures}: a
     * fingerprint of its shard's tables): invalidation-streams forwards a watermark only from a
     * capture that captures the tables its own configuration expects of that shard, so a capture
     * still on a file without a table (a rollout, a capture never restarted) cannot vouch for that
     * table's changes. Absent from a capture of a version before it (then not compared). Not
     * covered by the signature (a forged one can only make streams hold watermarks).
     */
    public static final String CAPTURES = "lethe.watermark.captures";

    /** The {@link #ROUTES} header of a watermark record, if it has one. */
    public static java.util.Optional<String> routes(org.apache.kafka.common.header.Headers headers) {
        Header h = headers.lastHeader(ROUTES);
        return h == null ? java.util.Optional.empty() : java.util.Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }

    /** The {@link #CAPTURES} header of a watermark record, if it has one. */
    public static java.util.Optional<String> captures(org.apache.kafka.common.header.Headers headers) {
        Header h = headers.lastHeader(CAPTURES);
        return h == null ? java.util.Optional.empty() : java.util.Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }

    /** A watermark whose history is unknown. */
    public Watermark(long commitTs, long lsn, int source) {
        this(commitTs, lsn, source, null, null);
    }

    /** A single capture's watermark. */
    public Watermark(long commitTs, long lsn, int source, String history) {
        this(commitTs, lsn, source, history, null);
    }

    /** The same watermark, of source history {@code history}. */
    public Watermark inHistory(String history) {
        return new Watermark(commitTs, lsn, source, history, shard);
    }

    /** The same watermark, of capture shard {@code shard} (null: a single capture). */
    public Watermark ofShard(String shard) {
        return new Watermark(commitTs, lsn, source, history, shard);
    }

    public static boolean isWatermark(String recordKey) {
        return KEY.equals(recordKey);
    }

    /** Reads a watermark record's headers; empty when they are missing or not numbers. */
    public static Optional<Watermark> read(org.apache.kafka.common.header.Headers headers) {
        OptionalLong ts = number(headers.lastHeader(COMMIT_TS));
        if (ts.isEmpty()) {
            return Optional.empty();
        }
        OptionalLong lsn = number(headers.lastHeader(LSN));
        OptionalLong source = number(headers.lastHeader(SOURCE));
        Header history = headers.lastHeader(HISTORY);
        Header shard = headers.lastHeader(SHARD);
        return Optional.of(new Watermark(ts.getAsLong(), lsn.orElse(0), (int) source.orElse(-1),
                history == null ? null : new String(history.value(), StandardCharsets.UTF_8),
                shard == null ? null : new String(shard.value(), StandardCharsets.UTF_8)));
    }

    /** This watermark's headers, added to {@code headers}. */
    public org.apache.kafka.common.header.Headers writeTo(org.apache.kafka.common.header.Headers headers) {
        headers.add(COMMIT_TS, Long.toString(commitTs).getBytes(StandardCharsets.UTF_8));
        headers.add(LSN, Long.toString(lsn).getBytes(StandardCharsets.UTF_8));
        if (source >= 0) {
            headers.add(SOURCE, Integer.toString(source).getBytes(StandardCharsets.UTF_8));
        }
        if (history != null) {
            headers.add(HISTORY, history.getBytes(StandardCharsets.UTF_8));
        }
        if (shard != null) {
            headers.add(SHARD, shard.getBytes(StandardCharsets.UTF_8));
        }
        return headers;
    }

    /** This watermark's headers and its {@link #SIGNATURE} with {@code key} (none when {@code key} is null). */
    public org.apache.kafka.common.header.Headers writeTo(org.apache.kafka.common.header.Headers headers, byte[] key) {
        return writeTo(headers, key, null);
    }

    /**
     * This watermark's headers with {@link #ROUTES} (when not null) and its {@link #SIGNATURE} with
     * {@code key} over both, with the {@link Headers#KEY_ID} of {@code key} (neither when {@code key}
     * is null): a copy with other routes does not verify.
     */
    public org.apache.kafka.common.header.Headers writeTo(org.apache.kafka.common.header.Headers headers, byte[] key, String routes) {
        writeTo(headers);
        if (routes != null) {
            headers.add(ROUTES, routes.getBytes(StandardCharsets.UTF_8));
        }
        if (key != null) {
            headers.add(SIGNATURE, signature(key, routes).getBytes(StandardCharsets.UTF_8));
            headers.remove(Headers.KEY_ID);
            headers.add(Headers.KEY_ID, idOf(key));
        }
        return headers;
    }

    /** The last key's id: a stage signs every watermark with one key, and the id costs an HMAC of its own. */
    private static volatile Object[] lastId = {new byte[0], new byte[0]};

    private static byte[] idOf(byte[] key) {
        Object[] last = lastId;
        if (!java.util.Arrays.equals((byte[]) last[0], key)) {
            last = new Object[] {key.clone(), SigningKeys.keyId(key).getBytes(StandardCharsets.UTF_8)};
            lastId = last;
        }
        return (byte[]) last[1];
    }

    /**
     * The HMAC-SHA256 of the fields, hex, with {@code key}: proof that whoever wrote the record
     * knew the key. It says nothing about when: a watermark copied from the topic verifies again
     * (harmless, as regions keep the highest they have seen).
     */
    public String signature(byte[] key) {
        return signature(key, null);
    }

    /** {@link #signature(byte[])} over the fields and {@code routes} too (v2) when it is not null. */
    public String signature(byte[] key, String routes) {
        String fields = (routes == null ? "lethe.watermark/v1|" : "lethe.watermark/v2|" + routes + "|") + commitTs + "|" + lsn + "|"
                + source
                + "|" + (history == null ? "" : history) + (shard == null ? "" : "|shard=" + shard);
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(fields.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /**
     * True when {@code headers} carry this watermark's signature with {@code key} (compared in
     * constant time), over the {@link #ROUTES} they carry, if any. One key only: Lethe's verifiers
     * call {@link #verifies(org.apache.kafka.common.header.Headers, SigningKeys)}, which accepts the
     * previous key during a rotation too.
     */
    public boolean verifies(org.apache.kafka.common.header.Headers headers, byte[] key) {
        Header given = headers.lastHeader(SIGNATURE);
        String expected = signature(key, routes(headers).orElse(null));
        return given != null && java.security.MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.value());
    }

    /**
     * True when {@code headers} carry this watermark's signature with either key {@code keys}
     * accepts (the current first, the previous only when that fails): what every verifier in
     * Lethe calls, so a watermark signed with the previous key during a rotation is merged.
     */
    public boolean verifies(org.apache.kafka.common.header.Headers headers, SigningKeys keys) {
        return keys.verifies(this, headers);
    }

    /** The same watermark, as forwarded from changes topic partition {@code partition}. */
    public Watermark from(int partition) {
        return new Watermark(commitTs, lsn, partition, history, shard);
    }

    private static OptionalLong number(Header h) {
        if (h == null) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(new String(h.value(), StandardCharsets.UTF_8)));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }
}
