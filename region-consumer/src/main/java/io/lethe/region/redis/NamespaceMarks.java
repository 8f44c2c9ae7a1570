package io.lethe.region.redis;

import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import io.lettuce.core.api.sync.RedisSortedSetCommands;
import io.lettuce.core.api.sync.RedisStringCommands;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A region's per-namespace marks in its Redis: the wide and scan watermarks (the newest
 * namespace-wide invalidation and pattern scan applied, see {@link RedisLayout}) and the epoch
 * readers with a fill in flight compare.
 */
public final class NamespaceMarks {
    private final RedisScriptingCommands<String, String> scripting;
    private final RedisSortedSetCommands<String, String> sortedSets;
    private final RedisStringCommands<String, String> strings;

    NamespaceMarks(RedisScriptingCommands<String, String> scripting, RedisSortedSetCommands<String, String> sortedSets,
            RedisStringCommands<String, String> strings) {
        this.scripting = scripting;
        this.sortedSets = sortedSets;
        this.strings = strings;
    }

    /**
     * Raises the namespace's wide watermark to {@code lsn} (never lowers it): the LSN of the
     * newest namespace-wide invalidation applied here. An upsert from a change at or below it is
     * older than that invalidation and must not write its value.
     */
    public void raiseWideWatermark(String namespace, long lsn) {
        raise(namespace, RedisLayout.WIDE_WATERMARK_MEMBER, lsn);
    }

    /** Raises the namespace's scan watermark to {@code commitLsn} (see {@link RedisLayout#SCAN_WATERMARK_MEMBER}). */
    public void raiseScanWatermark(String namespace, long commitLsn) {
        raise(namespace, RedisLayout.SCAN_WATERMARK_MEMBER, commitLsn);
    }

    private void raise(String namespace, String member, long lsn) {
        scripting.eval(RAISE_WATERMARK, ScriptOutputType.INTEGER, new String[] {RedisLayout.wideWatermarkKey(namespace)},
                Long.toString(lsn), member);
    }

    /*
     * Namespace-wide invalidations must apply when Redis is full too: each of these scripts starts
     * with PERSIST, a write Redis never refuses at maxmemory (and a no-op here: these keys have no
     * TTL), after which Redis runs the script's other writes (see invalidate.lua).
     */
    private static final String RAISE_WATERMARK = "redis.call('PERSIST', KEYS[1]) "
            + "return redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])";
    /*
     * The epoch is raised to at least Redis's clock in microseconds, not only incremented: a key lost (evicted under an
     * allkeys-* policy, deleted) would otherwise count again from 0 to a value a reader's miss read before, and that
     * reader's fill, landed after this invalidation's scan, would be confirmed. Under script replication (Redis 5, 6)
     * TIME needs replicate_commands first; Redis 7 replicates effects anyway.
     */
    private static final String INCREMENT_EPOCH = "if redis.replicate_commands then redis.replicate_commands() end "
            + "redis.call('PERSIST', KEYS[1]) local t = redis.call('TIME') "
            + "local floor = t[1] .. string.format('%06d', tonumber(t[2])) local now = redis.call('GET', KEYS[1]) "
            + "if now == false or tonumber(now) < tonumber(floor) then redis.call('SET', KEYS[1], floor) return tonumber(floor) end "
            + "return redis.call('INCR', KEYS[1])";

    /** The namespace's wide watermark, or -1 when no namespace-wide invalidation was applied here. */
    public long wideWatermark(String namespace) {
        Double score = sortedSets.zscore(RedisLayout.wideWatermarkKey(namespace), RedisLayout.WIDE_WATERMARK_MEMBER);
        return score == null ? -1 : score.longValue();
    }

    /**
     * Records what the namespace's entries hold ({@link RedisLayout#holdsKey}, {@code value} rendered by
     * {@link RedisLayout#holds}), replacing what was recorded: before a wholesale invalidation that a change of them
     * brings, so a reader on the old configuration whose miss reads the new record refuses its fill, and one whose
     * miss read the old record read the epoch that invalidation then moves. In the same script, the move's intent
     * ({@link RedisLayout#holdsIntentKey}, {@link #MOVE_INTENT_SECONDS}): a reconciliation leaves the record alone meanwhile.
     */
    public void recordHolds(String namespace, String value) {
        scripting.eval(SET_HOLDS, ScriptOutputType.STATUS, holdsKeys(namespace), value, Long.toString(MOVE_INTENT_SECONDS));
    }

    /**
     * How long the intent a move writes with its record lives ({@link RedisLayout#INTENT_PREFIX}): longer than a move's
     * wholesale invalidation and marker write take, so another instance's reconciliation leaves the new record alone
     * meanwhile; short enough that one left by a mover that stopped half-way lets the record be reconciled again.
     */
    public static final long MOVE_INTENT_SECONDS = 600;
    /** How long the intent of a reconciliation's rewrite lives: until its invalidation is acknowledged, or picked up. */
    public static final long REWRITE_INTENT_SECONDS = 86_400;

    /** A namespace's holds record and the intent beside it, both possibly absent (null); {@code intentMillisLeft} its PTTL. */
    public record Holds(String record, String intent, long intentMillisLeft) {
    }

    /** What {@link #rewriteHolds} and a reconciliation compare: the record and the intent beside it, read at once. */
    public Holds holdsAndIntent(String namespace) {
        List<Object> got = scripting.eval(READ_HOLDS, ScriptOutputType.MULTI, holdsKeys(namespace));
        return new Holds((String) got.get(0), (String) got.get(1), got.get(2) instanceof Long ms ? ms : -2);
    }

    /**
     * Rewrites the namespace's record to {@code value}, with the intent {@link RedisLayout#REWRITTEN}{@code value} beside
     * it, only while the record is still {@code expected} (null: absent) and no move's intent for other holds is there:
     * false when not written (changed meanwhile, or another instance's move records other holds now).
     */
    public boolean rewriteHolds(String namespace, String expected, String value) {
        Long done = scripting.eval(REWRITE_HOLDS, ScriptOutputType.INTEGER, holdsKeys(namespace), value,
                expected == null ? "" : expected, RedisLayout.REWRITTEN, Long.toString(REWRITE_INTENT_SECONDS));
        return done != null && done == 1;
    }

    /** Deletes the intent beside the namespace's record while it is {@code value}. */
    public void clearIntent(String namespace, String value) {
        scripting.eval(CLEAR_INTENT, ScriptOutputType.INTEGER, new String[] {RedisLayout.holdsIntentKey(namespace)}, value);
    }

    private static String[] holdsKeys(String namespace) {
        return new String[] {RedisLayout.holdsKey(namespace), RedisLayout.holdsIntentKey(namespace)};
    }

    /**
     * What the region's Redis records that each of {@code namespaces}' entries hold ({@link RedisLayout#holdsKey}), by
     * namespace; one not recorded is left out. A GET a namespace (few: those a batch upserted), not an MGET: the region's
     * least-privilege Redis user runs GET, and on a cluster the keys are in other slots; each is read from the master
     * that owns it (the control connection reads no replica).
     */
    public Map<String, String> holds(List<String> namespaces) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String ns : namespaces) {
            String recorded = strings.get(RedisLayout.holdsKey(ns));
            if (recorded != null) {
                out.put(ns, recorded);
            }
        }
        return out;
    }

    /*
     * As the other marks: PERSIST first, so a full Redis still takes the record that has to precede a wholesale
     * invalidation (a no-op on a key without TTL, and on a missing one).
     */
    private static final String SET_HOLDS = "redis.call('PERSIST', KEYS[1]) redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2]) "
            + "return redis.call('SET', KEYS[1], ARGV[1])";
    private static final String READ_HOLDS = "return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), "
            + "redis.call('PTTL', KEYS[2])}";
    // an intent of other holds blocks it unless a reconciliation wrote it (another view's rewrite is no move)
    private static final String REWRITE_HOLDS = "local i = redis.call('GET', KEYS[2]) "
            + "if i and i ~= ARGV[1] and string.sub(i, 1, #ARGV[3]) ~= ARGV[3] then return 0 end "
            + "if (redis.call('GET', KEYS[1]) or '') ~= ARGV[2] then return 0 end "
            + "redis.call('PERSIST', KEYS[1]) redis.call('SET', KEYS[2], ARGV[3] .. ARGV[1], 'EX', ARGV[4]) "
            + "redis.call('SET', KEYS[1], ARGV[1]) return 1";
    private static final String CLEAR_INTENT = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end "
            + "return 0";

    /**
     * Raises the namespace's epoch to a value it never had (the next integer, at least Redis's clock in microseconds): readers
     * with a fill in flight undo it (see {@link RedisLayout#EPOCH_PREFIX}).
     */
    public long incrementEpoch(String namespace) {
        return scripting.eval(INCREMENT_EPOCH, ScriptOutputType.INTEGER, RedisLayout.epochKey(namespace));
    }
}
