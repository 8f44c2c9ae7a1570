package io.lethe.region.apply;

import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.redis.InvalidateResult;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.UpsertResult;
import io.lethe.stage.failure.Failure;
import io.lettuce.core.RedisFuture;
import io.lethe.schemas.redis.RedisLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Script calls in one pipelined round trip, every reply classified ({@link RedisFailures}). The
 * invalidate calls of keys that share a cluster slot (all of them on a standalone Redis) travel
 * together as {@link LuaScript#INVALIDATE_BATCH} calls of at most {@link #MAX_BATCH} keys: the
 * same script, one call instead of one per key. An entry that failed inside a batch is applied
 * again alone, so its failure is classified exactly as a single call's would be. Upserts go alone
 * (see invalidate-batch.lua: at maxmemory a batch would store what alone is refused).
 */
final class Pipelined {
    /** Keys per batch call: a batch runs as one script, so Redis serves nothing else meanwhile (~5 µs a key). */
    static final int MAX_BATCH = 128;

    private final RegionRedis redis;
    private final RegionMetrics metrics;
    private final Duration timeout;

    Pipelined(RegionRedis redis, RegionMetrics metrics, Duration timeout) {
        this.redis = redis;
        this.metrics = metrics;
        this.timeout = timeout;
    }

    /** A call as sent: a single script call, or a batch call of {@code entries} (indexes of the calls it carries). */
    private record Sent(ScriptCall call, int[] entries) {
        boolean batch() {
            return call.script() == LuaScript.INVALIDATE_BATCH;
        }
    }

    /**
     * Runs the calls in one pipelined round trip. A poison reply adds its key to {@code poisoned};
     * any other failure is thrown once every reply is in.
     *
     * @param events the event of each call, by index (the last one stands for any calls beyond)
     */
    void run(List<ScriptCall> calls, List<InvalidationEvent> events, Map<String, Integer> results, List<Poisoned> poisoned)
            throws ApplyFailure, InterruptedException {
        run(calls, events, results, poisoned, true);
    }

    private void run(List<ScriptCall> calls, List<InvalidationEvent> events, Map<String, Integer> results,
            List<Poisoned> poisoned, boolean batch) throws ApplyFailure, InterruptedException {
        if (calls.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<Sent> sent = batch ? batched(calls) : singles(calls);
        List<RedisFuture<Object>> futures = redis.evalsha(sent.stream().map(Sent::call).toList());
        List<Integer> alone = new ArrayList<>();
        ApplyFailure failure = null;
        long deadline = System.nanoTime() + timeout.toNanos() + TimeUnit.SECONDS.toNanos(1);
        for (int i = 0; i < futures.size(); i++) {
            Sent s = sent.get(i);
            InvalidationEvent event = eventOf(events, s.entries()[0]);
            try {
                Object reply = await(futures.get(i), deadline);
                if (!s.batch()) {
                    count(calls.get(s.entries()[0]), ((Number) reply).longValue(), results);
                    continue;
                }
                List<?> codes = (List<?>) reply;
                for (int j = 0; j < s.entries().length; j++) {
                    long code = ((Number) codes.get(j)).longValue();
                    if (code < 0) {
                        alone.add(s.entries()[j]);
                    } else {
                        count(calls.get(s.entries()[j]), code, results);
                    }
                }
            } catch (ExecutionException ex) {
                Failure f = RedisFailures.classify(ex.getCause(), redis.display());
                if (f.isPoison() && s.batch()) {
                    for (int entry : s.entries()) {
                        alone.add(entry);
                    }
                } else if (f.isPoison()) {
                    poisoned.add(new Poisoned(event, calls.get(s.entries()[0]).keys()[0], f, false));
                } else if (failure == null) {
                    failure = failure(f, event);
                }
            } catch (TimeoutException ex) {
                if (failure == null) {
                    failure = new ApplyFailure(Failure.retriable("timeout", ex), "Redis " + redis.display()
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
        if (!alone.isEmpty()) {
            List<ScriptCall> again = new ArrayList<>(alone.size());
            List<InvalidationEvent> againEvents = new ArrayList<>(alone.size());
            for (int entry : alone) {
                again.add(calls.get(entry));
                againEvents.add(eventOf(events, entry));
            }
            run(again, againEvents, results, poisoned, false);
        }
    }

    /**
     * A reply, flushing the pipelines again while it is awaited: in a Redis Cluster whose slot is
     * migrating, Lettuce sends a redirected call (ASK, MOVED) to the other master on its own, and on
     * a pipeline connection (no automatic flush) it would wait there unsent until the timeout.
     */
    private Object await(RedisFuture<Object> future, long deadline) throws ExecutionException, TimeoutException, InterruptedException {
        while (true) {
            long left = deadline - System.nanoTime();
            try {
                return future.get(Math.max(1, Math.min(left, REFLUSH_NANOS)), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                if (left <= REFLUSH_NANOS) {
                    throw e;
                }
                redis.flush();
            }
        }
    }

    private static final long REFLUSH_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private static InvalidationEvent eventOf(List<InvalidationEvent> events, int call) {
        return events.get(Math.min(call, events.size() - 1));
    }

    private static void count(ScriptCall call, long code, Map<String, Integer> results) {
        String tag = call.script() == LuaScript.UPSERT ? UpsertResult.of(code).tag() : InvalidateResult.of(code).tag();
        results.merge(tag, 1, Integer::sum);
    }

    private static List<Sent> singles(List<ScriptCall> calls) {
        List<Sent> out = new ArrayList<>(calls.size());
        for (int i = 0; i < calls.size(); i++) {
            out.add(new Sent(calls.get(i), new int[] {i}));
        }
        return out;
    }

    /** Invalidate calls grouped by slot (one group on a standalone Redis) into batch calls; the rest alone. */
    private List<Sent> batched(List<ScriptCall> calls) {
        Map<Integer, List<Integer>> bySlot = new LinkedHashMap<>();
        List<Sent> out = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            ScriptCall c = calls.get(i);
            if (!batchable(c)) {
                out.add(new Sent(c, new int[] {i}));
                continue;
            }
            int slot = redis.cluster() ? RedisLayout.slot(c.keys()[0]) : 0;
            bySlot.computeIfAbsent(slot, k -> new ArrayList<>()).add(i);
        }
        for (List<Integer> group : bySlot.values()) {
            for (int from = 0; from < group.size(); from += MAX_BATCH) {
                List<Integer> chunk = group.subList(from, Math.min(group.size(), from + MAX_BATCH));
                out.add(chunk.size() == 1 ? new Sent(calls.get(chunk.get(0)), new int[] {chunk.get(0)}) : batchCall(calls, chunk));
            }
        }
        return out;
    }

    private static boolean batchable(ScriptCall c) {
        return c.keys().length == 2 && c.script() == LuaScript.INVALIDATE && c.args().length == 4;
    }

    private static Sent batchCall(List<ScriptCall> calls, List<Integer> chunk) {
        String[] keys = new String[2 * chunk.size()];
        List<String> args = new ArrayList<>(4 * chunk.size());
        int[] entries = new int[chunk.size()];
        for (int j = 0; j < chunk.size(); j++) {
            ScriptCall c = calls.get(chunk.get(j));
            entries[j] = chunk.get(j);
            keys[2 * j] = c.keys()[0];
            keys[2 * j + 1] = c.keys()[1];
            args.addAll(Arrays.asList(c.args()));
        }
        return new Sent(new ScriptCall(LuaScript.INVALIDATE_BATCH, keys, args.toArray(String[]::new)), entries);
    }

    /** A failure of a call for {@code example}'s namespace; poison there (a Lethe key of the wrong type) is retried. */
    ApplyFailure failure(Failure f, InvalidationEvent example) {
        return new ApplyFailure(f, "Redis " + redis.display() + (f.isFatal() ? " refuses Lethe's commands" : " failed")
                + " for namespace " + example.namespace() + ": " + f.message());
    }
}
