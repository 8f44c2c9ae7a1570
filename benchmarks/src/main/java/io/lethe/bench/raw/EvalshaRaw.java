package io.lethe.bench.raw;

import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Redis's limit for the pipeline's own work on one connection: invalidate.lua by EVALSHA, pipelined
 * in batches, and invalidate-batch.lua carrying many keys a call (what region consumers send).
 * One connection keeps one Redis core busy, so keys per second measure Redis's cost per key.
 */
public final class EvalshaRaw {
    private EvalshaRaw() {
    }

    public static Rate run(String redisUri, String keyPrefix, long calls, int batch) throws Exception {
        RedisClient client = RedisClient.create();
        try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(redisUri))) {
            c.sync().scriptLoad(LuaScript.INVALIDATE.source());
            c.setAutoFlushCommands(false);
            RedisAsyncCommands<String, String> async = c.async();
            long t0 = System.nanoTime();
            for (long from = 0; from < calls; from += batch) {
                List<RedisFuture<Long>> replies = new ArrayList<>(batch);
                for (long i = from; i < Math.min(calls, from + batch); i++) {
                    String key = keyPrefix + i;
                    replies.add(async.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER,
                            new String[] {key, RedisLayout.fenceKey(key)}, "1000", "60000", "7"));
                }
                c.flushCommands();
                for (RedisFuture<Long> reply : replies) {
                    reply.get(30, TimeUnit.SECONDS);
                }
            }
            return Rate.since(calls, t0);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /** invalidate-batch.lua calls of {@code keysPerCall} keys, {@code callsPerFlush} pipelined at a time: keys per second. */
    public static Rate runBatched(String redisUri, String keyPrefix, long keys, int keysPerCall, int callsPerFlush) throws Exception {
        RedisClient client = RedisClient.create();
        try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(redisUri))) {
            c.sync().scriptLoad(LuaScript.INVALIDATE_BATCH.source());
            c.setAutoFlushCommands(false);
            RedisAsyncCommands<String, String> async = c.async();
            long perFlush = (long) keysPerCall * callsPerFlush;
            long t0 = System.nanoTime();
            for (long from = 0; from < keys; from += perFlush) {
                List<RedisFuture<List<Object>>> replies = new ArrayList<>(callsPerFlush);
                for (long call = from; call < Math.min(keys, from + perFlush); call += keysPerCall) {
                    int n = (int) Math.min(keysPerCall, keys - call);
                    String[] k = new String[2 * n];
                    String[] args = new String[4 * n];
                    for (int i = 0; i < n; i++) {
                        String key = keyPrefix + (call + i);
                        k[2 * i] = key;
                        k[2 * i + 1] = RedisLayout.fenceKey(key);
                        args[4 * i] = "1000";
                        args[4 * i + 1] = "60000";
                        args[4 * i + 2] = "7";
                        args[4 * i + 3] = "0";
                    }
                    replies.add(async.evalsha(LuaScript.INVALIDATE_BATCH.sha1(), ScriptOutputType.MULTI, k, args));
                }
                c.flushCommands();
                for (RedisFuture<List<Object>> reply : replies) {
                    reply.get(30, TimeUnit.SECONDS);
                }
            }
            return Rate.since(keys, t0);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }
}
