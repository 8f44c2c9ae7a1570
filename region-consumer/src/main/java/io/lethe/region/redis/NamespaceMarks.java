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
     * miss read the old record read the epoch that invalidation then moves.
     */
    public void recordHolds(String namespace, String value) {
        scripting.eval(SET_HOLDS, ScriptOutputType.STATUS, new String[] {RedisLayout.holdsKey(namespace)}, value);
    }

    /**
     * Records the namespace's holds only where nothing is recorded (a Redis fed by a version before the record);
     * returns what is recorded otherwise, or null when this wrote it or it was already {@code value}.
     */
    public String recordHoldsIfAbsent(String namespace, String value) {
        String present = scripting.eval(SET_HOLDS_NX, ScriptOutputType.VALUE, new String[] {RedisLayout.holdsKey(namespace)}, value);
        return present == null || present.equals(value) ? null : present;
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
    private static final String SET_HOLDS = "redis.call('PERSIST', KEYS[1]) return redis.call('SET', KEYS[1], ARGV[1])";
    private static final String SET_HOLDS_NX = "redis.call('PERSIST', KEYS[1]) local present = redis.call('GET', KEYS[1]) "
            + "if present then return present end redis.call('SET', KEYS[1], ARGV[1]) return false";

    /**
     * Raises the namespace's epoch to a value it never had (the next integer, at least Redis's clock in microseconds): readers
     * with a fill in flight undo it (see {@link RedisLayout#EPOCH_PREFIX}).
     */
    public long incrementEpoch(String namespace) {
        return scripting.eval(INCREMENT_EPOCH, ScriptOutputType.INTEGER, RedisLayout.epochKey(namespace));
    }
}
