package io.lethe.region.apply;

import io.lethe.schemas.DlqReason;
import io.lethe.config.NamespaceConfig;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.stage.failure.Failure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a {@link BatchPlan} to one region's Redis through the contract scripts: key events
 * pipelined in one round trip, pattern events as SCAN steps with each match invalidated, at a
 * bounded rate. Errors are classified by {@link RedisFailures}: a retriable or configuration
 * error is thrown as {@link ApplyFailure} after the whole batch's replies are in (scripts missing
 * after a Redis restart are reloaded first), and the whole batch is applied again; a poison error
 * for one key is widened ({@link #widen}) and returned in {@link Applied#poisoned()}, so the rest
 * of the batch goes on.
 */
final class RedisApplier implements Applier {
    private final RegionRedis redis;
    private final ScriptCalls scriptCalls;
    private final Pipelined pipelined;
    private final PatternScan patterns;
    /** Confirms the upserts of each batch against the holds the region's Redis records once they are acknowledged. */
    private final UpsertHolds holds;
    private PatternSweeps sweeps;

    /**
     * @param cached the namespaces the region caches (it receives others whose keys overlap theirs:
     *               their upserts are applied as deletes, never written where nobody reads them)
     */
    public RedisApplier(RegionRedis redis, Map<String, NamespaceConfig> namespaces, Set<String> cached, RegionMetrics metrics,
            Duration timeout, int scanCount, int keysPerSecond) {
        this.redis = redis;
        this.scriptCalls = new ScriptCalls(namespaces, cached);
        this.pipelined = new Pipelined(redis, metrics, timeout);
        this.patterns = new PatternScan(redis, namespaces, metrics, pipelined, scriptCalls, scanCount, keysPerSecond);
        this.holds = new UpsertHolds(redis, namespaces, scriptCalls, pipelined, metrics);
        this.metrics = metrics;
    }

    private final RegionMetrics metrics;
    /** Judges each upsert's age when it is applied; null: none judged (set by the region's service). */
    private volatile UpsertAge upsertAge;
    private long agedSinceLog;
    private long agedLoggedAt;
    private static final long AGED_LOG_NANOS = TimeUnit.MINUTES.toNanos(1);

    /**
     * From now on, an upsert too old for the fence of a later change to be relied on ({@link
     * UpsertAge}) is applied as the delete at its version, counted
     * ({@code lethe.region.unproven.upserts{reason=aged}}) and logged at most once a minute.
     */
    public void ageUpsertsBy(UpsertAge age) {
        this.upsertAge = age;
    }

    /** True when {@code e} is an upsert too old to write now ({@link #ageUpsertsBy}). */
    private boolean aged(InvalidationEvent e) {
        UpsertAge age = upsertAge;
        return age != null && age.tooOld(e);
    }

    /** Counts the upserts of an applied batch that were applied as deletes for their age, and logs at most once a minute. */
    private void countAged(List<InvalidationEvent> aged) {
        if (aged.isEmpty()) {
            return;
        }
        metrics.unprovenUpserts("aged", aged.size());
        agedSinceLog += aged.size();
        long now = System.nanoTime();
        if (agedLoggedAt == 0 || now - agedLoggedAt >= AGED_LOG_NANOS) {
            InvalidationEvent latest = aged.get(aged.size() - 1);
            LOG.warn("region {}: {} upsert(s) applied as deletes since the last report because their commit is too old for the fence of "
                    + "a later change to be relied on (latest: namespace {}, committed {} ms ago; fence-ttl minus the margin of "
                    + "docs/security.md, \"Replayed records\"): the region lags, or old records were written back into its topic; "
                    + "they cost misses, never stale entries", metrics.region(), agedSinceLog, latest.namespace(),
                    upsertAge.ageMillis(latest));
            agedSinceLog = 0;
            agedLoggedAt = now;
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(RedisApplier.class);

    /**
     * Where {@link #applyDeferringSweeps} hands its sweeps; without it, they are done in place.
     */
    public void sweepOn(PatternSweeps sweeps) {
        this.sweeps = sweeps;
    }

    @Override
    public PatternSweeps sweeps() {
        return sweeps;
    }

    /**
     * Applies every key and pattern of the plan.
     */
    @Override
    public Applied apply(BatchPlan plan) throws ApplyFailure, InterruptedException {
        Map<String, Integer> results = new LinkedHashMap<>();
        List<Poisoned> poisoned = new ArrayList<>();
        applyKeys(plan, results, poisoned);
        patterns.apply(plan.patterns(), results, poisoned);
        return new Applied(results, widened(poisoned));
    }

    /**
     * Applies the plan's keys, and moves the epochs and watermarks of its patterns (so a fill
     * from a load older than a pattern is undone from now on); their sweeps are handed to
     * {@link #sweepOn the sweep worker} and run on after this returns. Without one, as {@link #apply}.
     */
    @Override
    public Applied applyDeferringSweeps(BatchPlan plan) throws ApplyFailure, InterruptedException {
        if (sweeps == null || plan.patterns().isEmpty()) {
            return apply(plan);
        }
        Map<String, Integer> results = new LinkedHashMap<>();
        List<Poisoned> poisoned = new ArrayList<>();
        applyKeys(plan, results, poisoned);
        Map<String, List<InvalidationEvent>> byGlob = PatternScan.byGlob(plan.patterns());
        patterns.markReached(plan.patterns());
        byGlob.forEach(sweeps::submit);
        return new Applied(results, widened(poisoned));
    }

    /**
     * One glob's sweep, its epochs and watermarks already moved by {@link #applyDeferringSweeps}
     * (the sweep worker's applier, on a Redis connection of its own): every match invalidated,
     * poison keys widened.
     */
    public Applied sweep(String glob, List<InvalidationEvent> events) throws ApplyFailure, InterruptedException {
        Map<String, Integer> results = new LinkedHashMap<>();
        List<Poisoned> poisoned = new ArrayList<>();
        patterns.sweep(glob, events, results, poisoned);
        return new Applied(results, widened(poisoned));
    }

    /** Applies the plan's keys; upserts written under another instance's holds are undone ({@link UpsertHolds}). */
    private void applyKeys(BatchPlan plan, Map<String, Integer> results, List<Poisoned> poisoned)
            throws ApplyFailure, InterruptedException {
        Map<String, Long> watermarks = wideWatermarks(plan.keys());
        List<ScriptCall> calls = new ArrayList<>(plan.keys().size());
        List<InvalidationEvent> aged = new ArrayList<>();
        for (InvalidationEvent e : plan.keys()) {
            // judged at each attempt, just before the scripts go: a batch retried through an outage is judged again
            boolean old = !olderThanNamespaceWide(e, watermarks) && aged(e);
            if (old) {
                aged.add(e);
            }
            calls.add(scriptCalls.call(old || olderThanNamespaceWide(e, watermarks) ? e.asDelete() : e, e.key()));
        }
        pipelined.run(calls, plan.keys(), results, poisoned);
        countAged(aged);
        undoUpsertsOvertaken(plan.keys(), watermarks, results);
        holds.confirm(plan.keys(), calls);
    }

    private List<Poisoned> widened(List<Poisoned> poisoned) throws ApplyFailure, InterruptedException {
        List<Poisoned> out = new ArrayList<>(poisoned.size());
        for (Poisoned p : poisoned) {
            out.add(widen(p));
        }
        return out;
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
        if (p.failure().dlqReason() == DlqReason.REDIS_OOM && e.action() == Action.UPSERT) {
            call = List.of(scriptCalls.call(e.asDelete(), p.key()));
        } else {
            try {
                redis.keyCommands().unlink(p.key(), RedisLayout.fenceKey(p.key()));
            } catch (RuntimeException ex) {
                Failure f = RedisFailures.classify(ex, redis.display());
                if (!f.isPoison()) {
                    throw pipelined.failure(f, e);
                }
                return p;
            }
            call = List.of(scriptCalls.fenceAtMax(e, p.key()));
        }
        List<Poisoned> again = new ArrayList<>();
        pipelined.run(call, List.of(e), new LinkedHashMap<>(), again);
        return new Poisoned(e, p.key(), p.failure(), again.isEmpty());
    }

    /** The wide watermark of every namespace with an upsert in {@code events}. */
    private Map<String, Long> wideWatermarks(List<InvalidationEvent> events) throws ApplyFailure {
        Map<String, Long> out = new LinkedHashMap<>();
        for (InvalidationEvent e : events) {
            if (e.action() == Action.UPSERT && !out.containsKey(e.namespace())) {
                try {
                    out.put(e.namespace(), redis.namespaceMarks().wideWatermark(e.namespace()));
                } catch (RuntimeException ex) {
                    throw pipelined.failure(RedisFailures.classify(ex, redis.display()), e);
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
                calls.add(scriptCalls.call(e.asDelete(), e.key()));
                undone.add(e);
            }
        }
        pipelined.run(calls, undone, new LinkedHashMap<>(), new ArrayList<>());
        results.merge("upsert-overtaken", undone.size(), Integer::sum);
    }
}
