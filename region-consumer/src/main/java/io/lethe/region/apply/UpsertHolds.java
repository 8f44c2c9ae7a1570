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
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecords;

/**
 * The readers' protocol ({@code FencedFill} of the cache client) for the upserts a region applies: once Redis
 * acknowledged a batch's upserts, and before its offsets can be committed, the instance reads what the region's
 * Redis records that their namespaces' entries hold ({@code lethe:holds:<ns>}, one MGET, only for a batch that
 * wrote upserts) and compares it with its own configuration ({@code RedisLayout.holds(ns.readerHolds())}).
 * Another record (another instance of the group started on a file that changes the namespace, or
 * {@code not-received} for one it no longer receives) undoes them: each is applied again as the delete at its own
 * version (invalidate.lua removes the entry only while it still holds that version, and fences the key there), is
 * counted ({@code lethe.region.upserts.undone{reason=other-holds}}), and the instance then holds as on a skew of
 * the marker ({@link #heldOn}). None recorded (a Redis fed by an older version): nothing undone. A re-read or an undo
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
 * <p>The undone batch's offsets are committed once the hold ends: what it did in Redis is now what a matching
 * instance does with such an upsert (the delete at its version, {@code foreign-holds}), so reading it again after a
 * restart on the new file would change nothing. The hold lasts while the marker differs from this instance's view or
 * the holds of those namespaces still differ: between the mover's record and its marker write (its scan) the marker
 * still records the old file, and releasing the hold then would only undo upsert after upsert.
 */
final class UpsertHolds {
    private final RegionRedis redis;
    private final ScriptCalls scriptCalls;
    private final Pipelined pipelined;
    private final RegionMetrics metrics;
    /** What each configured namespace's entries hold under this instance's configuration, as the holds key records it. */
    private final Map<String, String> own = new LinkedHashMap<>();

    UpsertHolds(RegionRedis redis, Map<String, NamespaceConfig> namespaces, ScriptCalls scriptCalls, Pipelined pipelined,
            RegionMetrics metrics) {
        this.redis = redis;
        this.scriptCalls = scriptCalls;
        this.pipelined = pipelined;
        this.metrics = metrics;
        namespaces.forEach((name, ns) -> own.put(name, RedisLayout.holds(ns.readerHolds())));
    }

    /** What the region's Redis records for {@code namespaces} where it is not this configuration's holds; none recorded: left out. */
    Map<String, String> other(Collection<String> namespaces) {
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
     * their namespace's recorded holds are not this configuration's. Returns those namespaces with what is recorded.
     */
    Map<String, String> confirm(List<InvalidationEvent> events, List<ScriptCall> calls) throws ApplyFailure, InterruptedException {
        Set<String> upserted = new LinkedHashSet<>();
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).script() == LuaScript.UPSERT) {
                upserted.add(events.get(i).namespace());
            }
        }
        if (upserted.isEmpty()) {
            return Map.of(); // delete-only traffic reads nothing
        }
        Map<String, String> other;
        try {
            other = other(upserted);
        } catch (RuntimeException ex) {
            throw pipelined.failure(RedisFailures.classify(ex, redis.display()), events.get(0));
        }
        if (other.isEmpty()) {
            return Map.of();
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
        metrics.upsertsUndone("other-holds", undone.size());
        return other;
    }

    /**
     * Holds the loop ({@link MarkerView#hold}) after a batch whose upserts were undone for other holds, until the marker
     * matches this instance's view and the holds recorded for those namespaces are this configuration's again (or the
     * region closes: then null, nothing committed). Inside another hold (its restore check), the batch is returned as is.
     */
    static Applied heldOn(Applied applied, MarkerView view, Applier applier) throws InterruptedException {
        if (applied == null || applied.otherHolds().isEmpty() || view.holding()) {
            return applied;
        }
        Set<String> namespaces = applied.otherHolds().keySet();
        String why = "the region's Redis records other holds for namespaces " + applied.otherHolds() + " (lethe:holds:<namespace>) "
                + "than this instance's configuration: another instance of the group started on another file and recorded them "
                + "before invalidating those namespaces wholesale; the upserts this instance had just applied there were undone "
                + "(applied again as the delete at their version)";
        return view.hold(why, ConsumerRecords.empty(), () -> view.differs().or(() -> stillOther(applier, namespaces)))
                ? applied
                : null;
    }

    private static Optional<String> stillOther(Applier applier, Set<String> namespaces) {
        Map<String, String> other = applier.otherHolds(namespaces);
        return other.isEmpty() ? Optional.empty() : Optional.of("the region's Redis records other holds for namespaces " + other);
    }
}
