package io.lethe.region.apply;

import io.lethe.config.NamespaceConfig;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The readers' protocol ({@code FencedFill} of the cache client) for the upserts a region applies: once Redis
 * acknowledged a batch's upserts, and before its offsets can be committed, the instance reads what the region's
 * Redis records that their namespaces' entries hold ({@code lethe:holds:<ns>}, a GET a namespace upserted, as the region's
 * least-privilege Redis user may run; a batch of deletes reads nothing) and compares it with its own configuration
 * ({@code RedisLayout.holds(ns.readerHolds())}).
 * Another record (another instance of the group started on a file that changes the namespace, or
 * {@code not-received} for one it no longer receives) undoes them: each is applied again as the delete at its own
 * version (invalidate.lua removes the entry only while it still holds that version, and fences the key there), is
 * counted ({@code lethe.region.upserts.undone{reason=other-holds}}) and logged. The instance does not hold for it:
 * its deletes go on, its offsets are committed (what the batch did in Redis is now what a matching instance does
 * with such an upsert, the delete at its version, {@code foreign-holds}), and each later upsert is undone the same
 * way until the record is its file's again or the marker check ({@link MarkerView}) holds it once the mover wrote
 * its marker. A hold here would sit between the apply and the offsets (a restore check during it could commit past
 * the replay's start), and a record that stays other (a move stopped half-way and rolled back) would stop every
 * invalidation of the region; undone upserts only cost misses. None recorded (a Redis fed by an older version): nothing undone. A re-read or an undo
 * Redis fails is an {@link ApplyFailure}: the whole batch is applied again, as any batch Redis failed, and nothing
 * is committed past it meanwhile (a Redis down means waiting, never skipping).
 *
 * <p>Why this closes the gap an instance still on the old file leaves between another instance's move and its next
 * comparison with the marker ({@link MarkerView#EVERY}): the upsert a streams still on the old file stamped passes
 * {@link HoldsStamp}, and written at an LSN into a namespace now {@code column:}-versioned after the mover's wholesale
 * scan passed its key, nothing later would remove it. The mover ({@link StartupFeed}) records the new holds, and only
 * once Redis acknowledged that record hands its wholesale invalidation to its loop: the record precedes its scan in
 * its program order. If the upsert landed before the scan passed the key, the scan deletes it. If after, the re-read,
 * issued once the upsert's reply came back, runs after the upsert, so after the scan passed the key, so after the
 * record was acknowledged: it reads the new holds and undoes the upsert. This needs no common slot, so it holds in a
 * Redis Cluster too, the holds key on one master and the entry on another: each master executes commands one at a
 * time in the order it receives them, and the chain record acknowledged, scan at the key, upsert executed, upsert
 * acknowledged, re-read sent is one of real time, through the replies each side waited for; the re-read goes to the
 * master owning the holds key (the control connection never reads a replica), which applied the record before it
 * acknowledged it. It assumes what every fence of the contract assumes: a master does not lose writes it
 * acknowledged (a failover that drops them is a restore, {@link RestoreGuard}).
 *
 * <p>Its ordering argument assumes the upsert it re-reads after is the last write of that call: an attempt that timed
 * out on the client and still runs later on another pipelined connection is not covered (the wide watermark's check
 * has the same limit).
 */
final class UpsertHolds {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UpsertHolds.class);
    private final RegionRedis redis;
    private final ScriptCalls scriptCalls;
    private final Pipelined pipelined;
    private final RegionMetrics metrics;
    /** What each configured namespace's entries hold under this instance's configuration, as the holds key records it. */
    private final Map<String, String> own = new LinkedHashMap<>();
    /** The last record logged: a WARN when it changes, not one a batch. */
    private Map<String, String> warned = Map.of();

    UpsertHolds(RegionRedis redis, Map<String, NamespaceConfig> namespaces, ScriptCalls scriptCalls, Pipelined pipelined,
            RegionMetrics metrics) {
        this.redis = redis;
        this.scriptCalls = scriptCalls;
        this.pipelined = pipelined;
        this.metrics = metrics;
        namespaces.forEach((name, ns) -> own.put(name, RedisLayout.holds(ns.readerHolds())));
    }

    /** What the region's Redis records for {@code namespaces} where it is not this configuration's holds; none recorded: left out. */
    private Map<String, String> other(Collection<String> namespaces) {
        Map<String, String> out = new LinkedHashMap<>();
        redis.namespaceMarks().holds(List.copyOf(namespaces)).forEach((ns, recorded) -> {
            if (!recorded.equals(own.get(ns))) {
                out.put(ns, recorded);
            }
        });
        return out;
    }

    /**
     * After Redis acknowledged {@code calls} (those of {@code events}, by index): the upserts written are undone where
     * their namespace's recorded holds are not this configuration's.
     */
    void confirm(List<InvalidationEvent> events, List<ScriptCall> calls) throws ApplyFailure, InterruptedException {
        Set<String> upserted = new LinkedHashSet<>();
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).script() == LuaScript.UPSERT) {
                upserted.add(events.get(i).namespace());
            }
        }
        if (upserted.isEmpty()) {
            return; // delete-only traffic reads nothing
        }
        Map<String, String> other;
        try {
            other = other(upserted);
        } catch (RuntimeException ex) {
            throw pipelined.failure(RedisFailures.classify(ex, redis.display()), events.get(0));
        }
        if (other.isEmpty()) {
            return;
        }
        List<ScriptCall> undo = new ArrayList<>();
        List<InvalidationEvent> undone = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            InvalidationEvent e = events.get(i);
            if (calls.get(i).script() == LuaScript.UPSERT && other.containsKey(e.namespace())) {
                undo.add(scriptCalls.call(e.asDelete(), e.key()));
                undone.add(e);
            }
        }
        // a key Redis refuses for good is widened by the batch's own poison handling: its refusal here changes nothing
        pipelined.run(undo, undone, new LinkedHashMap<>(), new ArrayList<>());
        metrics.counted(RegionMeterNames.UPSERTS_UNDONE, "other-holds", undone.size());
        if (!other.equals(warned)) {
            warned = other;
            LOG.warn("Redis {}: the region's Redis records other holds for namespaces {} (lethe:holds:<namespace>) than this "
                    + "instance's configuration: another instance of the group started on another file and recorded them before "
                    + "invalidating those namespaces wholesale (or stopped half-way, see docs/runbook.md). The {} upsert(s) just "
                    + "applied there were undone (the delete at their version), as every later one will be until this instance "
                    + "runs that file; counted as lethe.region.upserts.undone{reason=other-holds}", redis.display(), other,
                    undone.size());
        }
    }
}
