package io.lethe.region.redis;

import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import io.lettuce.core.api.sync.RedisSortedSetCommands;

/**
 * A region's per-namespace marks in its Redis: the wide and scan watermarks (the newest
 * namespace-wide invalidation and pattern scan applied, see {@link RedisLayout}) and the epoch
 * readers with a fill in flight compare.
 */
public final class NamespaceMarks {
    private final RedisScriptingCommands<String, String> scripting;
    private final RedisSortedSetCommands<String, String> sortedSets;

    NamespaceMarks(RedisScriptingCommands<String, String> scripting, RedisSortedSetCommands<String, String> sortedSets) {
        this.scripting = scripting;
        this.sortedSets = sortedSets;
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
    private static final String INCREMENT_EPOCH = "redis.call('PERSIST', KEYS[1]) return redis.call('INCR', KEYS[1])";

    /** The namespace's wide watermark, or -1 when no namespace-wide invalidation was applied here. */
    public long wideWatermark(String namespace) {
        Double score = sortedSets.zscore(RedisLayout.wideWatermarkKey(namespace), RedisLayout.WIDE_WATERMARK_MEMBER);
        return score == null ? -1 : score.longValue();
    }

    /** Increments the namespace's epoch: readers with a fill in flight undo it (see {@link RedisLayout#EPOCH_PREFIX}). */
    public long incrementEpoch(String namespace) {
        return scripting.eval(INCREMENT_EPOCH, ScriptOutputType.INTEGER, RedisLayout.epochKey(namespace));
    }
}
