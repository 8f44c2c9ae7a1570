package io.lethe.region.apply;

import io.lethe.config.NamespaceConfig;
import io.lethe.region.metrics.RegionMetrics;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.redis.InvalidateResult;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.redis.UpsertResult;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisFuture;
import io.lethe.stage.failure.Failure;
import io.lettuce.core.ScanCursor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Applies a {@link BatchPlan} to one region's Redis through the contract scripts: key events
 * pipelined in one round trip, pattern events as SCAN steps with each match invalidated, at a
 * bounded rate. Errors are classified by {@link RedisFailures}: a retriable or configuration
 * error is thrown as {@link ApplyFailure} after the whole batch's replies are in (scripts missing
 * after a Redis restart are reloaded first), and the whole batch is applied again; a poison error
 * for one key is widened ({@link #widen}) and returned in {@link Applied#poisoned()}, so the rest
 * of the batch goes on.
 */
public final class RedisApplier implements Applier {
    private final RegionRedis redis;
    private final Map<String, NamespaceConfig> namespaces;
    private final RegionMetrics metrics;
    private final Duration timeout;
    private final int scanCount;
    private final int keysPerSecond;

    public RedisApplier(RegionRedis redis, Map<String, NamespaceConfig> namespaces, RegionMetrics metrics,
                        Duration timeout, int scanCount, int keysPerSecond) {
        this.redis = redis;
        this.namespaces = namespaces;
        this.metrics = metrics;
        this.timeout = timeout;
        this.scanCount = scanCount;
        this.keysPerSecond = keysPerSecond;
    }

    /** A Redis failure after which the whole batch is applied again (nothing is committed). */
    public static final class ApplyFailure extends Exception {
        private final Failure failure;

        public ApplyFailure(Failure failure, String message) {
            super(message, failure.cause());
            this.failure = failure;
        }

        /** Retriable or a configuration error; never poison. */
        public Failure failure() {
            return failure;
        }

        /** The retry metric's tag: timeout, noscript, connection, busy, loading, readonly, authentication, ... */
        public String kind() {
            return failure.reason();
        }
    }

    /**
     * A key whose call Redis refuses for good (see {@link RedisFailures}).
     *
     * @param event   the invalidation (its source record is dead-lettered)
     * @param key     the key the call was for (a pattern's match, or the event's key)
     * @param failure why
     * @param widened true when the wider invalidation of {@link #widen} was applied in its place
     */
    public record Poisoned(InvalidationEvent event, String key, Failure failure, boolean widened) {
    }

    /**
     * What a batch did.
     *
     * @param results  counted by metric tag (deleted, kept-newer, absent, upserted, refused, ...)
     * @param poisoned keys Redis refused for good, widened where Redis allowed it
     */
    public record Applied(Map<String, Integer> results, List<Poisoned> poisoned) {
    }

    /**
     * Applies every key and pattern of the plan.
     */
    @Override
    public Applied apply(BatchPlan plan) throws ApplyFailure, InterruptedException {
        Map<String, Integer> results = new LinkedHashMap<>();
        List<Poisoned> poisoned = new ArrayList<>();
        Map<String, Long> watermarks = wideWatermarks(plan.keys());
        List<ScriptCall> calls = new ArrayList<>(plan.keys().size());
        for (InvalidationEvent e : plan.keys()) {
            calls.add(call(olderThanNamespaceWide(e, watermarks) ? e.asDelete() : e, e.key()));
        }
        run(calls, plan.keys(), results, poisoned);
        undoUpsertsOvertaken(plan.keys(), watermarks, results);
        for (InvalidationEvent pattern : plan.patterns()) {
            applyPattern(pattern, results, poisoned);
        }
        List<Poisoned> out = new ArrayList<>(poisoned.size());
        for (Poisoned p : poisoned) {
            out.add(widen(p));
        }
        return new Applied(results, out);
    }

    /**
     * Fail closed for a key Redis refused: an upsert Redis is too full to store becomes the
     * delete at its version (exact: the entry goes, the fence records the version; deletes are
     * allowed at maxmemory). Any other refusal (a foreign key of another type at the fence, a
     * script error) unlinks the entry and the fence, then fences the key at the highest version,
     * so no reader's fill of it is accepted until that fence expires.
     */
    private Poisoned widen(Poisoned p) throws ApplyFailure, InterruptedException {
        InvalidationEvent e = p.event();
        List<ScriptCall> call;
        if (p.failure().reason().equals("redis-oom") && e.action() == Action.UPSERT) {
            call = List.of(call(e.asDelete(), p.key()));
        } else {
            try {
                redis.keyCommands().unlink(p.key(), RedisLayout.fenceKey(p.key()));
            } catch (RuntimeException ex) {
                Failure f = RedisFailures.classify(ex, redis.display());
                if (!f.isPoison()) {
                    throw failure(f, e);
                }
                return p;
            }
            call = List.of(new ScriptCall(LuaScript.INVALIDATE, new String[] {p.key(), RedisLayout.fenceKey(p.key())},
                    Versions.MAX, Long.toString(namespaces.get(e.namespace()).fenceTtl().toMillis()),
                    Long.toString(ThreadLocalRandom.current().nextLong(1L << 40)), "1"));
        }
        List<Poisoned> again = new ArrayList<>();
        run(call, List.of(e), new LinkedHashMap<>(), again);
        return new Poisoned(e, p.key(), p.failure(), again.isEmpty());
    }

    /** The wide watermark of every namespace with an upsert in {@code events}. */
    private Map<String, Long> wideWatermarks(List<InvalidationEvent> events) throws ApplyFailure {
        Map<String, Long> out = new LinkedHashMap<>();
        for (InvalidationEvent e : events) {
            if (e.action() == Action.UPSERT && !out.containsKey(e.namespace())) {
                try {
                    out.put(e.namespace(), redis.wideWatermark(e.namespace()));
                } catch (RuntimeException ex) {
                    throw failure(RedisFailures.classify(ex, redis.display()), e);
                }
            }
        }
        return out;
    }

    private static boolean olderThanNamespaceWide(InvalidationEvent e, Map<String, Long> watermarks) {
        return e.action() == Action.UPSERT && e.lsn() <= watermarks.getOrDefault(e.namespace(), -1L);
    }

    /**
     * Another consumer of the region may have applied a namespace-wide invalidation between the
     * watermark read and the upserts: its scan may have passed a key before the upsert wrote it.
     * Upserts the watermark has overtaken since are applied again, as deletes.
     */
    private void undoUpsertsOvertaken(List<InvalidationEvent> events, Map<String, Long> before, Map<String, Integer> results)
            throws ApplyFailure, InterruptedException {
        if (before.isEmpty()) {
            return;
        }
        Map<String, Long> after = wideWatermarks(events);
        if (after.equals(before)) {
            return;
        }
        List<ScriptCall> calls = new ArrayList<>();
        List<InvalidationEvent> undone = new ArrayList<>();
        for (InvalidationEvent e : events) {
            if (olderThanNamespaceWide(e, after) && !olderThanNamespaceWide(e, before)) {
                calls.add(call(e.asDelete(), e.key()));
                undone.add(e);
            }
        }
        run(calls, undone, new LinkedHashMap<>(), new ArrayList<>());
        results.merge("upsert-overtaken", undone.size(), Integer::sum);
    }

    private ScriptCall call(InvalidationEvent e, String key) {
        NamespaceConfig ns = namespaces.get(e.namespace());
        String[] keys = {key, RedisLayout.fenceKey(key)};
        String fenceTtl = Long.toString(ns.fenceTtl().toMillis());
        String seed = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40));
        if (e.action() == Action.UPSERT) {
            return new ScriptCall(LuaScript.UPSERT, keys, e.version(), e.payload(), Long.toString(ns.ttl().toMillis()), fenceTtl, seed);
        }
        return new ScriptCall(LuaScript.INVALIDATE, keys, e.version(), fenceTtl, seed, deletesWhateverIsThere(e) ? "1" : "0");
    }

    /**
     * Derived keys' entries carry no meaningful version (several rows reach them, and a reader may
     * have filled one with any version), and a namespace-scoped invalidation stands for changes
     * that could not be named exactly: both delete whatever entry is there.
     */
    static boolean deletesWhateverIsThere(InvalidationEvent e) {
        return e.scope() == Scope.DERIVED || e.scope() == Scope.NAMESPACE;
    }

    /**
     * True when a key a pattern's SCAN found may be invalidated: never one of Lethe's own keys
     * (fences, epochs, locks), and for a namespace-scoped glob only keys one of the namespace's
     * templates could have rendered (another namespace's keys may match the same glob).
     */
    static boolean inScope(InvalidationEvent e, NamespaceConfig ns, String key) {
        if (key.startsWith(RedisLayout.RESERVED_PREFIX)) {
            return false;
        }
        if (e.scope() != Scope.NAMESPACE || ns.patterns().contains(e.pattern())) {
            return true;
        }
        return ns.keys().stream().anyMatch(t -> t.matches(key));
    }

    /**
     * Runs the calls in one pipelined round trip. A poison reply adds its key to {@code poisoned};
     * any other failure is thrown once every reply is in.
     */
    private void run(List<ScriptCall> calls, List<InvalidationEvent> events, Map<String, Integer> results, List<Poisoned> poisoned)
            throws ApplyFailure, InterruptedException {
        if (calls.isEmpty()) {
            return;
        }
        long t0 = System.nanoTime();
        List<RedisFuture<Long>> futures = redis.evalsha(calls);
        ApplyFailure failure = null;
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
                    poisoned.add(new Poisoned(event, calls.get(i).keys()[0], f, false));
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
    }

    /** A failure of a call for {@code example}'s namespace; poison there (a Lethe key of the wrong type) is retried. */
    private ApplyFailure failure(Failure f, InvalidationEvent example) {
        return new ApplyFailure(f, "Redis " + redis.display() + (f.isFatal() ? " refuses Lethe's commands" : " failed")
                + " for namespace " + example.namespace() + ": " + f.message());
    }

    private void applyPattern(InvalidationEvent e, Map<String, Integer> results, List<Poisoned> poisoned)
            throws ApplyFailure, InterruptedException {
        // first the epoch (and, for a namespace-wide invalidation of an upsert namespace, its
        // watermark), then the scan: a fill or upsert that lands after the scan passed its key sees
        // them moved and undoes itself; one that lands before is found by the scan
        try {
            redis.incrementEpoch(e.namespace());
            if (e.scope() == Scope.NAMESPACE && namespaces.get(e.namespace()).mode() == io.lethe.config.Mode.UPSERT) {
                redis.raiseWideWatermark(e.namespace(), e.lsn());
            }
        } catch (RuntimeException ex) {
            throw failure(RedisFailures.classify(ex, redis.display()), e);
        }
        ScanCursor cursor = ScanCursor.INITIAL;
        long started = System.nanoTime();
        long visited = 0;
        do {
            KeyScanCursor<String> page;
            try {
                page = redis.scan(cursor, e.pattern(), scanCount);
            } catch (RuntimeException ex) {
                throw failure(RedisFailures.classify(ex, redis.display()), e);
            }
            List<ScriptCall> calls = new ArrayList<>(page.getKeys().size());
            List<InvalidationEvent> events = new ArrayList<>(page.getKeys().size());
            NamespaceConfig ns = namespaces.get(e.namespace());
            for (String key : page.getKeys()) {
                if (inScope(e, ns, key)) {
                    calls.add(call(e, key));
                    events.add(e);
                }
            }
            run(calls, events, results, poisoned);
            visited += calls.size();
            metrics.patternKeys(calls.size());
            long due = started + visited * 1_000_000_000L / keysPerSecond;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            cursor = page;
        } while (!((KeyScanCursor<String>) cursor).isFinished());
    }
}
