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

/** Redis's limit for the pipeline's own work: invalidate.lua by EVALSHA, pipelined in batches on one connection. */
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
}
