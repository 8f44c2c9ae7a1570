package io.lethe.region.apply;

import io.lethe.region.metrics.RegionMetrics;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.redis.InvalidateResult;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.UpsertResult;
import io.lethe.stage.failure.Failure;
import io.lettuce.core.RedisFuture;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Script calls in one pipelined round trip, every reply classified ({@link RedisFailures}). */
final class Pipelined {
    private final RegionRedis redis;
    private final RegionMetrics metrics;
    private final Duration timeout;

    Pipelined(RegionRedis redis, RegionMetrics metrics, Duration timeout) {
        this.redis = redis;
        this.metrics = metrics;
        this.timeout = timeout;
    }

    /**
     * Runs the calls in one pipelined round trip. A poison reply adds its key to {@code poisoned};
     * any other failure is thrown once every reply is in.
     */
    void run(List<ScriptCall> calls, List<InvalidationEvent> events, Map<String, Integer> results, List<RedisApplier.Poisoned> poisoned)
            throws RedisApplier.ApplyFailure, InterruptedException {
        if (calls.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<RedisFuture<Long>> futures = redis.evalsha(calls);
        RedisApplier.ApplyFailure failure = null;
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
        for (int i = 0; i < futures.size(); i++) {
            InvalidationEvent event = events.get(Math.min(i, events.size() - 1));
            try {
                long code = futures.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                String tag = calls.get(i).script() == LuaScript.UPSERT ? UpsertResult.of(code).tag() : InvalidateResult.of(code).tag();
                results.merge(tag, 1, Integer::sum);
            } catch (ExecutionException ex) {
                Failure f = RedisFailures.classify(ex.getCause(), redis.display());
                if (f.isPoison()) {
                    poisoned.add(new RedisApplier.Poisoned(event, calls.get(i).keys()[0], f, false));
                } else if (failure == null) {
                    failure = failure(f, event);
                }
            } catch (TimeoutException ex) {
                if (failure == null) {
                    failure = new RedisApplier.ApplyFailure(Failure.retriable("timeout", ex), "Redis " + redis.display()
                            + " did not answer within " + timeout);
                }
            }
        }
        metrics.redisRoundTrip(System.nanoTime() - t0);
        if (failure != null) {
            if (failure.kind().equals("noscript")) {
                try {
                    redis.loadScripts();
                } catch (RuntimeException reload) {
                    failure.addSuppressed(reload);
                }
            }
            throw failure;
        }
    }

    /** A failure of a call for {@code example}'s namespace; poison there (a Lethe key of the wrong type) is retried. */
    RedisApplier.ApplyFailure failure(Failure f, InvalidationEvent example) {
        return new RedisApplier.ApplyFailure(f, "Redis " + redis.display() + (f.isFatal() ? " refuses Lethe's commands" : " failed")
                + " for namespace " + example.namespace() + ": " + f.message());
    }
}
