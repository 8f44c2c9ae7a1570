package io.lethe.region.apply;

import io.lethe.config.Mode;
import io.lethe.config.NamespaceConfig;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Scope;
import io.lethe.schemas.redis.RedisLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Pattern and namespace-wide invalidations: every key of the region's Redis that matches
 * ({@link KeySweep}, which also covers a Redis Cluster resharding meanwhile), each invalidated.
 * The events of one batch that share a glob (two namespaces listing the same pattern, say) are
 * applied by one scan, each match invalidated once per event that covers it.
 */
final class PatternScan {
    private final RegionRedis redis;
    private final Map<String, NamespaceConfig> namespaces;
    private final RegionMetrics metrics;
    private final Pipelined pipelined;
    private final ScriptCalls scriptCalls;
    private final KeySweep sweep;
    private final int keysPerSecond;

    PatternScan(RegionRedis redis, Map<String, NamespaceConfig> namespaces, RegionMetrics metrics, Pipelined pipelined,
            ScriptCalls scriptCalls, int scanCount, int keysPerSecond) {
        this.redis = redis;
        this.namespaces = namespaces;
        this.metrics = metrics;
        this.pipelined = pipelined;
        this.scriptCalls = scriptCalls;
        this.sweep = new KeySweep(redis, metrics, scanCount);
        this.keysPerSecond = keysPerSecond;
    }

    /** Applies every pattern event of a batch: one scan per distinct glob. */
    void apply(List<InvalidationEvent> events, Map<String, Integer> results, List<Poisoned> poisoned)
            throws ApplyFailure, InterruptedException {
        for (Map.Entry<String, List<InvalidationEvent>> glob : byGlob(events).entrySet()) {
            markReached(glob.getValue());
            sweep(glob.getKey(), glob.getValue(), results, poisoned);
        }
    }

    /** The events by glob, in their order. */
    static Map<String, List<InvalidationEvent>> byGlob(List<InvalidationEvent> events) {
        Map<String, List<InvalidationEvent>> byGlob = new LinkedHashMap<>();
        for (InvalidationEvent e : events) {
            byGlob.computeIfAbsent(e.pattern(), g -> new ArrayList<>()).add(e);
        }
        return byGlob;
    }

    /**
     * The sweep of one glob's events, once {@link #markReached} moved their epochs and watermarks:
     * SCAN steps, each match invalidated, at a bounded rate. A fill or upsert that lands after the
     * scan passed its key sees the epoch moved and undoes itself; one that lands before is found
     * by the scan.
     */
    void sweep(String glob, List<InvalidationEvent> events, Map<String, Integer> results, List<Poisoned> poisoned)
            throws ApplyFailure, InterruptedException {
        long started = System.nanoTime();
        long[] visited = {0};
        try {
            sweep.sweep(glob, keys -> {
                List<ScriptCall> calls = new ArrayList<>(keys.size());
                List<InvalidationEvent> callEvents = new ArrayList<>(keys.size());
                for (String key : keys) {
                    for (InvalidationEvent e : events) {
                        if (inScope(e, namespaces.get(e.namespace()), key)) {
                            calls.add(scriptCalls.call(e, key));
                            callEvents.add(e);
                        }
                    }
                }
                pipelined.run(calls, callEvents, results, poisoned);
                visited[0] += calls.size();
                metrics.patternKeys(calls.size());
                long wait = started + visited[0] * 1_000_000_000L / keysPerSecond - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            });
        } catch (RuntimeException ex) {
            throw pipelined.failure(RedisFailures.classify(ex, redis.display()), events.get(0));
        }
    }

    /**
     * Before the scan: the epoch of every namespace whose keys the glob can reach is incremented
     * and its scan watermark raised to the commit LSN; for a namespace-wide invalidation, the wide
     * watermark of every reached namespace in upsert mode too. A pattern may be shared by
     * namespaces, or match keys of another namespace than its event's; readers and prewarm check
     * the epoch and watermarks of the namespace their key belongs to.
     */
    void markReached(List<InvalidationEvent> events) throws ApplyFailure {
        Set<String> epochs = new LinkedHashSet<>();
        Map<String, Long> scans = new LinkedHashMap<>();
        Map<String, Long> wide = new LinkedHashMap<>();
        for (InvalidationEvent e : events) {
            for (String ns : reached(e, namespaces)) {
                epochs.add(ns);
                scans.merge(ns, e.visibleAfter(), Math::max);
                NamespaceConfig reachedConfig = namespaces.get(ns); // null: no longer configured (TopicMove)
                if (e.scope() == Scope.NAMESPACE && reachedConfig != null && reachedConfig.mode() == Mode.UPSERT) {
                    wide.merge(ns, e.lsn(), Math::max);
                }
            }
        }
        try {
            for (String ns : epochs) {
                redis.namespaceMarks().incrementEpoch(ns);
            }
            for (Map.Entry<String, Long> scan : scans.entrySet()) {
                redis.namespaceMarks().raiseScanWatermark(scan.getKey(), scan.getValue());
            }
            for (Map.Entry<String, Long> w : wide.entrySet()) {
                redis.namespaceMarks().raiseWideWatermark(w.getKey(), w.getValue());
            }
        } catch (RuntimeException ex) {
            throw pipelined.failure(RedisFailures.classify(ex, redis.display()), events.get(0));
        }
    }

    /** The event's own namespace, and every other whose keys its glob may reach. */
    static Set<String> reached(InvalidationEvent e, Map<String, NamespaceConfig> namespaces) {
        Set<String> out = new LinkedHashSet<>();
        out.add(e.namespace());
        for (NamespaceConfig ns : namespaces.values()) {
            if (ns.mayReach(e.pattern())) {
                out.add(ns.name());
            }
        }
        return out;
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
        if (ns == null) {
            // a namespace no longer configured, invalidated wholesale by the globs its keys had (TopicMove): every match
            return e.scope() == Scope.NAMESPACE;
        }
        if (e.scope() != Scope.NAMESPACE || ns.patterns().contains(e.pattern())) {
            return true;
        }
        if (!ns.namespaceGlobs().contains(e.pattern())) {
            // a glob the namespace's keys had before its templates changed (a topic move's recorded globs): every match
            return true;
        }
        // any key format: an entry of key format 1, or a key an application concatenated, goes too (a miss, never stale)
        return ns.keys().stream().anyMatch(t -> t.mayHaveRendered(key));
    }
}
