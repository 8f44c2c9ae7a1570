package io.lethe.schemas.redis;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Names in Redis shared by the pipeline and every reader: the fields of a versioned entry and
 * of a fence, and the fence key of any cache key.
 *
 * <p>The fence of {@code key} is {@code lethe:fence:{<tag>}:<key>}, so it lands in the same
 * Redis Cluster slot as the key and one script can touch both. {@code <tag>} is
 * <ol>
 *   <li>the key's own hash tag, when it has one (the text between its first {@code {} and the
 *       next {@code }}, if that is not empty);</li>
 *   <li>otherwise the whole key, when the key contains no {@code }};</li>
 *   <li>otherwise (no hash tag, but a {@code }} that would end the fence's tag early) the
 *       decimal string of the smallest non-negative integer whose slot is the key's slot.</li>
 * </ol>
 */
public final class RedisLayout {
    /** Versioned entry: the version, a decimal string. */
    public static final String ENTRY_VERSION = "v";
    /** Versioned entry: the payload bytes. */
    public static final String ENTRY_DATA = "d";
    /** Versioned entry: optional soft expiry, epoch milliseconds (stale-while-revalidate). */
    public static final String ENTRY_SOFT_EXPIRY = "s";
    /** Versioned entry: present (value 1) when the load found nothing: a negative entry, d is empty. */
    public static final String ENTRY_NOT_FOUND = "nf";
    /** Fence: the highest version invalidated. */
    public static final String FENCE_VERSION = "v";
    /** Fence: the number of invalidations, starting from a random value. */
    public static final String FENCE_COUNTER = "n";
    /**
     * Fence: present (value 1) when an invalidation of this key deleted whatever was there (a
     * derived key, or a namespace-wide delete): fills must then prove by the counter that no
     * invalidation landed since their miss, whatever version they claim.
     */
    public static final String FENCE_FORCED = "x";
    /**
     * Fence, the pipeline's scripts only: the Redis time (epoch ms) until which {@link #FENCE_VERSION}
     * stands, one fence TTL after it was raised; then only the versions recorded since count.
     */
    public static final String FENCE_STANDS_UNTIL = "h";
    /** Fence, the pipeline's scripts only: the highest version recorded since {@link #FENCE_VERSION} was raised. */
    public static final String FENCE_RECORDED = "m";
    /** Prefix of every key Lethe itself writes (fences, epochs, locks): never a cache entry. */
    public static final String RESERVED_PREFIX = "lethe:";
    /** Prefix of every fence key. */
    public static final String FENCE_PREFIX = "lethe:fence:";

    /**
     * Prefix of the namespace epochs: {@code lethe:epoch:<namespace>}, a counter that every pattern
     * and namespace-wide invalidation raises before it scans, to a value it never had (at least Redis's
     * clock in microseconds, so a key lost and written again does not repeat one). Readers read it at their miss
     * and again after an accepted fill; when it moved they undo the fill, because the scan may
     * have passed their key before the fill landed.
     */
    public static final String EPOCH_PREFIX = "lethe:epoch:";

    /**
     * Prefix of what each namespace's entries hold in this Redis: {@code lethe:holds:<namespace>}, a
     * string written by the region consumer ({@link #holds}: the namespace's table, version source,
     * mode, payload and keys, as {@code NamespaceConfig.readerHolds()} renders them) before every
     * wholesale invalidation that a change of them brings (a topic move, a first feed, a restored
     * marker), at a start-up that finds it absent, and by a running region that finds it lost or wrong (then with a
     * wholesale invalidation after it, {@code HoldsReconciler}). A reader declared with its namespace's
     * configuration reads it in its miss's round trip, after the epoch, and again with the epoch
     * after an accepted fill: a fill is refused (or undone) when Redis records other holds than the
     * reader's, because the invalidations the region applies now never reach such an entry (an entry
     * filled at an LSN is never removed by a column's versions). Absent: no region of this version
     * recorded it, and fills are allowed (readers roll out before the region, docs/subscribing.md).
     */
    public static final String HOLDS_PREFIX = "lethe:holds:";
    /** What separates the parts of a namespace's holds in {@link #HOLDS_PREFIX}'s value. */
    public static final String HOLDS_SEPARATOR = ";";

    /**
     * Prefix of the namespaces' wide watermarks: {@code lethe:wide:<namespace>}, a sorted set whose
     * one member's score is the LSN of the newest namespace-wide invalidation (TRUNCATE, reset,
     * a widened invalidation) applied in this Redis. Upserts of changes at or below it are applied
     * as deletes: they are older than that invalidation, and the keys they would write may have
     * been absent when its scan passed (so no fence refuses them). LSNs are exact as scores below
     * 2^53.
     */
    public static final String WIDE_WATERMARK_PREFIX = "lethe:wide:";
    /**
     * Prefix of the regions' checkpoints: {@code lethe:applied:<consumer group>}, a hash from partition
     * number to the offset the region consumer committed after applying it, {@code run_id:<partition>}
     * the {@code run_id} of the server that offset was written to, plus {@link #CHECKPOINT_RUN_ID}
     * (the server of the last write). It lives in the cache's own Redis, so it is in every snapshot
     * (RDB, AOF) and on every replica of it: a Redis restored from a snapshot, or a replica
     * promoted after missing writes, carries the position up to which its data is complete.
     */
    public static final String CHECKPOINT_PREFIX = "lethe:applied:";
    /** Checkpoint field: the {@code run_id} of the server the checkpoint was last written to. */
    public static final String CHECKPOINT_RUN_ID = "run_id";

    /** The checkpoint key of a region's consumer group (standalone and Sentinel). */
    public static String checkpointKey(String group) {
        return CHECKPOINT_PREFIX + group;
    }

    /**
     * The checkpoint key of a region's consumer group kept on the Redis Cluster master that owns
     * {@code slot}: {@code lethe:applied:{<tag>}:<group>}, the tag chosen so the key hashes to that
     * slot, so each master's snapshot carries its own checkpoint.
     */
    public static String checkpointKey(String group, int slot) {
        return CHECKPOINT_PREFIX + "{" + slotTag(slot) + "}:" + group;
    }

    /** The member of a wide watermark that upserts compare with (namespace-wide invalidations of upsert namespaces). */
    public static final String WIDE_WATERMARK_MEMBER = "lsn";
    /**
     * The member of a wide watermark raised by every pattern and namespace-wide invalidation, before
     * its scan, to its transaction's commit LSN: {@code lethe prewarm} copies nothing into a
     * namespace whose scans reached past the sibling's position (a scan may have passed a key
     * that was absent then, so no fence stands for it).
     */
    public static final String SCAN_WATERMARK_MEMBER = "scan";

    /**
     * The stream of confirmed stale entries that readers' shadow reads found (and healed, when
     * they heal): {@code XADD lethe:audit:stale MAXLEN ~ 10000}, one record per entry, with
     * coordinates only, never values: fields {@code namespace}, {@code key}, {@code served-version},
     * {@code db-version} ("" when the loader knows none; "not-found" when the row is gone),
     * {@code detected-at} (epoch ms) and {@code healed} (1 or 0). Other tools read it.
     */
    public static final String AUDIT_STALE_STREAM = "lethe:audit:stale";
    /** The approximate length the audit stream is trimmed to. */
    public static final long AUDIT_STALE_MAXLEN = 10_000;

    /** Number of Redis Cluster hash slots. */
    public static final int SLOTS = 16384;

    private static volatile String[] slotTags;

    private RedisLayout() {
    }

    /** The wide watermark key of a namespace. */
    public static String wideWatermarkKey(String namespace) {
        return WIDE_WATERMARK_PREFIX + namespace;
    }

    /** The epoch key of a namespace. */
    public static String epochKey(String namespace) {
        return EPOCH_PREFIX + namespace;
    }

    /**
     * The holds a region records for a namespace it no longer receives (unsubscribed, or removed from the
     * configuration), before the wholesale invalidation that clears it: no invalidation of it reaches this Redis
     * any more, so a reader still declared with the namespace (on the old file) must not fill it here. Not the
     * rendering of any configuration's holds, so every declared reader's fill is refused.
     */
    public static final String NOT_RECEIVED = "not-received";

    /** The holds key of a namespace ({@link #HOLDS_PREFIX}). */
    public static String holdsKey(String namespace) {
        return HOLDS_PREFIX + namespace;
    }

    /**
     * Prefix of the region's intents beside each holds record: {@code lethe:intent:{lethe:holds:<namespace>}}, in the
     * holds key's cluster slot (its hash tag is that key). Written by the region consumer only: with a TTL, in one script
     * with the record, by an instance recording the holds of a move (the value: those holds), so another instance's
     * holds reconciliation leaves the record alone until that move's marker is written; or by that reconciliation's own
     * rewrite ({@link #REWRITTEN} and the holds), until its wholesale invalidation is acknowledged. Readers never read it.
     */
    public static final String INTENT_PREFIX = "lethe:intent:";
    /** What starts the value of an intent a holds reconciliation wrote ({@link #INTENT_PREFIX}), not a move. */
    public static final String REWRITTEN = "rewritten:";

    /** The intent key beside a namespace's holds key ({@link #INTENT_PREFIX}). */
    public static String holdsIntentKey(String namespace) {
        return INTENT_PREFIX + "{" + holdsKey(namespace) + "}";
    }

    /**
     * The value of a namespace's holds key: the parts of {@code NamespaceConfig.readerHolds()},
     * in their order, joined by {@link #HOLDS_SEPARATOR}. Every writer and reader renders it here
     * (the Python reader joins the same list the same way), so equal holds are equal strings.
     */
    public static String holds(List<String> holdsRendered) {
        return String.join(HOLDS_SEPARATOR, holdsRendered);
    }

    /** The fence key of {@code key}. */
    public static String fenceKey(String key) {
        String tag = hashTag(key);
        if (tag == null) {
            tag = key.indexOf('}') < 0 ? key : slotTag(slot(key));
        }
        return FENCE_PREFIX + "{" + tag + "}:" + key;
    }

    /** The key's Redis Cluster hash tag, or null when it has none. */
    public static String hashTag(String key) {
        int open = key.indexOf('{');
        if (open < 0) {
            return null;
        }
        int close = key.indexOf('}', open + 1);
        if (close < 0 || close == open + 1) {
            return null;
        }
        return key.substring(open + 1, close);
    }

    /** The Redis Cluster slot of {@code key} (CRC16/XMODEM of its tag or whole UTF-8 bytes, mod 16384). */
    public static int slot(String key) {
        String tag = hashTag(key);
        byte[] bytes = (tag != null ? tag : key).getBytes(StandardCharsets.UTF_8);
        return crc16(bytes) % SLOTS;
    }

    /** The smallest non-negative integer, as a decimal string, whose slot is {@code slot}. */
    /** The smallest non-negative integer, as decimal text, whose slot is {@code slot}. */
    public static String slotTag(int slot) {
        String[] tags = slotTags;
        if (tags == null) {
            tags = new String[SLOTS];
            int found = 0;
            for (long i = 0; found < SLOTS; i++) {
                String candidate = Long.toString(i);
                int s = crc16(candidate.getBytes(StandardCharsets.US_ASCII)) % SLOTS;
                if (tags[s] == null) {
                    tags[s] = candidate;
                    found++;
                }
            }
            slotTags = tags;
        }
        return tags[slot];
    }

    /** CRC16/XMODEM (polynomial 0x1021, initial 0), as Redis Cluster uses. */
    static int crc16(byte[] bytes) {
        int crc = 0;
        for (byte b : bytes) {
            crc ^= (b & 0xff) << 8;
            for (int i = 0; i < 8; i++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            crc &= 0xffff;
        }
        return crc;
    }
}
