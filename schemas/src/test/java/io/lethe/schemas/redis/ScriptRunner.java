package io.lethe.schemas.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Calls the contract scripts by SHA on a real Redis (standalone or cluster), as the pipeline does. */
final class ScriptRunner implements AutoCloseable {
    private final RedisClient client;
    private final RedisClusterClient clusterClient;
    private final StatefulRedisConnection<String, String> connection;
    private final StatefulRedisClusterConnection<String, String> clusterConnection;
    final io.lettuce.core.api.sync.RedisHashCommands<String, String> hashes;
    final io.lettuce.core.api.sync.RedisKeyCommands<String, String> keys;
    final io.lettuce.core.api.sync.RedisStringCommands<String, String> strings;
    final io.lettuce.core.api.sync.RedisListCommands<String, String> lists;
    private final io.lettuce.core.api.sync.RedisScriptingCommands<String, String> scripting;

    private ScriptRunner(String uri, boolean cluster) {
        if (cluster) {
            client = null;
            connection = null;
            clusterClient = RedisClusterClient.create(uri);
            clusterConnection = clusterClient.connect();
            RedisAdvancedClusterCommands<String, String> c = clusterConnection.sync();
            hashes = c;
            keys = c;
            strings = c;
            lists = c;
            scripting = c;
        } else {
            clusterClient = null;
            clusterConnection = null;
            client = RedisClient.create();
            connection = client.connect(RedisURI.create(uri));
            RedisCommands<String, String> c = connection.sync();
            hashes = c;
            keys = c;
            strings = c;
            lists = c;
            scripting = c;
        }
        for (LuaScript s : LuaScript.values()) {
            scripting.scriptLoad(s.source());
        }
    }

    static ScriptRunner standalone(String uri) {
        return new ScriptRunner(uri, false);
    }

    static ScriptRunner cluster(String uri) {
        return new ScriptRunner(uri, true);
    }

    InvalidateResult invalidate(String key, String version, long fenceTtlMillis, long seed) {
        return InvalidateResult.of(call(LuaScript.INVALIDATE, key, version, Long.toString(fenceTtlMillis), Long.toString(seed)));
    }

    /** invalidate.lua with ARGV[4] = '1': delete whatever entry is there (derived keys, namespace-wide). */
    InvalidateResult invalidateWhatever(String key, String version, long fenceTtlMillis, long seed) {
        return InvalidateResult.of(call(LuaScript.INVALIDATE, key, version, Long.toString(fenceTtlMillis), Long.toString(seed), "1"));
    }

    UpsertResult upsert(String key, String version, String payload, long ttlMillis, long fenceTtlMillis, long seed) {
        return UpsertResult.of(call(LuaScript.UPSERT, key, version, payload, Long.toString(ttlMillis),
                Long.toString(fenceTtlMillis), Long.toString(seed)));
    }

    FillResult fill(String key, String version, String n0, String payload) {
        return fill(key, version, n0, payload, 0, "", false, false);
    }

    FillResult fill(String key, String version, String n0, String payload, long ttlMillis, String softExpiry,
            boolean replace, boolean notFound) {
        return FillResult.of(call(LuaScript.FILL, key, version, n0 == null ? "" : n0, payload, Long.toString(ttlMillis),
                softExpiry, replace ? "1" : "0", notFound ? "1" : "0"));
    }

    /** One entry of an invalidate-batch.lua call: invalidate.lua's arguments for a key. */
    record Entry(String key, String... args) {
    }

    /** invalidate-batch.lua over the entries, in one call: each entry's code (-1 where it failed). */
    List<Long> invalidateBatch(List<Entry> entries) {
        String[] k = new String[2 * entries.size()];
        List<String> args = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            k[2 * i] = entries.get(i).key();
            k[2 * i + 1] = RedisLayout.fenceKey(entries.get(i).key());
            args.addAll(List.of(entries.get(i).args()));
        }
        return scripting.evalsha(LuaScript.INVALIDATE_BATCH.sha1(), ScriptOutputType.MULTI, k, args.toArray(String[]::new));
    }

    /** invalidate.lua for the entry alone; its error as a RedisException. */
    long callAlone(Entry e) {
        return call(LuaScript.INVALIDATE, e.key(), e.args());
    }

    private long call(LuaScript script, String key, String... args) {
        Long result = scripting.evalsha(script.sha1(), ScriptOutputType.INTEGER, new String[] {key, RedisLayout.fenceKey(key)}, args);
        return result;
    }

    /** CLUSTER KEYSLOT, as the cluster computes it. */
    long keyslot(String key) {
        return clusterConnection.sync().clusterKeyslot(key);
    }

    /** The fence counter a reader sees at its miss (null when there is no fence). */
    String counter(String key) {
        return hashes.hget(RedisLayout.fenceKey(key), RedisLayout.FENCE_COUNTER);
    }

    Map<String, String> entry(String key) {
        return hashes.hgetall(key);
    }

    Map<String, String> fence(String key) {
        return hashes.hgetall(RedisLayout.fenceKey(key));
    }

    @Override
    public void close() {
        if (connection != null) {
            connection.close();
            client.shutdown();
        }
        if (clusterConnection != null) {
            clusterConnection.close();
            clusterClient.shutdown();
        }
    }
}
