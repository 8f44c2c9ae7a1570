package io.lethe.region.apply;

import io.lethe.config.NamespaceConfig;
import io.lethe.region.metrics.RegionMetrics;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Scope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanCursor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Pattern and namespace-wide invalidations: SCAN over the region's Redis, each match invalidated. */
final class PatternScan {
    private final RegionRedis redis;
    private final Map<String, NamespaceConfig> namespaces;
    private final RegionMetrics metrics;
    private final Pipelined pipelined;
    private final ScriptCalls scriptCalls;
    private final int scanCount;
    private final int keysPerSecond;

    PatternScan(RegionRedis redis, Map<String, NamespaceConfig> namespaces, RegionMetrics metrics, Pipelined pipelined,
                ScriptCalls scriptCalls, int scanCount, int keysPerSecond) {
        this.redis = redis;
        this.namespaces = namespaces;
        this.metrics = metrics;
        this.pipelined = pipelined;
        this.scriptCalls = scriptCalls;
        this.scanCount = scanCount;
        this.keysPerSecond = keysPerSecond;
    }

    private ScriptCalls calls() {
        return scriptCalls;
    }

    /**
     * Applies a pattern: first the epoch (and, for a namespace-wide invalidation of an upsert
     * namespace, its watermark), then SCAN steps, each match invalidated, at a bounded rate.
     */
    void apply(InvalidationEvent e, Map<String, Integer> results, List<RedisApplier.Poisoned> poisoned)
            throws RedisApplier.ApplyFailure, InterruptedException {
        // first the epoch (and, for a namespace-wide invalidation of an upsert namespace, its
        // watermark), then the scan: a fill or upsert that lands after the scan passed its key sees
        // them moved and undoes itself; one that lands before is found by the scan
        try {
            redis.incrementEpoch(e.namespace());
            redis.raiseScanWatermark(e.namespace(), e.visibleAfter());
            if (e.scope() == Scope.NAMESPACE && namespaces.get(e.namespace()).mode() == io.lethe.config.Mode.UPSERT) {
                redis.raiseWideWatermark(e.namespace(), e.lsn());
            }
        } catch (RuntimeException ex) {
            throw pipelined.failure(RedisFailures.classify(ex, redis.display()), e);
        }
        ScanCursor cursor = ScanCursor.INITIAL;
        long started = System.nanoTime();
        long visited = 0;
        do {
            KeyScanCursor<String> page;
            try {
                page = redis.scan(cursor, e.pattern(), scanCount);
            } catch (RuntimeException ex) {
                throw pipelined.failure(RedisFailures.classify(ex, redis.display()), e);
            }
            List<ScriptCall> calls = new ArrayList<>(page.getKeys().size());
            List<InvalidationEvent> events = new ArrayList<>(page.getKeys().size());
            NamespaceConfig ns = namespaces.get(e.namespace());
            for (String key : page.getKeys()) {
                if (inScope(e, ns, key)) {
                    calls.add(calls().call(e, key));
                    events.add(e);
                }
            }
            pipelined.run(calls, events, results, poisoned);
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
}
