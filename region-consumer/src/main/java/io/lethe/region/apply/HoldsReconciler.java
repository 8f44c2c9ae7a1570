package io.lethe.region.apply;

import io.lethe.region.redis.NamespaceMarks;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.RedisLayout;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps each namespace's holds record ({@code lethe:holds:<ns>}) what this instance's view says while the region runs:
 * the record is written before a move's, first feed's or restore's wholesale invalidation (and here, where one is absent:
 * a start-up's marker write leaves that to this check, which invalidates after recording it), but can be lost or wrong without any of them (evicted under {@code allkeys-*}, deleted by an operator, a Cluster
 * master that failed over before it replicated, a move stopped half-way and rolled back, a downgrade). While none is
 * recorded, a reader on any file fills (one on another file fills entries no invalidation reaches); while a wrong one is,
 * declared readers refuse every fill and {@link UpsertHolds} undoes every upsert.
 *
 * <p>Run by the periodic marker check ({@link MarkerView#EVERY}), only when this instance's view matches the marker
 * and its own marker write is done (a view that differs holds instead; a start-up still deciding does not
 * reconcile yet; a fresh or restored Redis is the first feed's or the restore's, which record it before their invalidation).
 * For each namespace received, and each configured one not received whose record says it holds something
 * ({@code not-received} is due; an absent record there is not known to have been this region's), it reads the
 * record and the intent beside it ({@link RedisLayout#holdsIntentKey}); when the record is absent or other, it reads the
 * marker again, rewrites the record (compare-and-set in one script with the intent {@code rewritten:<holds>}), then
 * invalidates those namespaces wholesale through the loop, as a move does (the epoch moves, the scan removes what
 * readers filled while the record was missing or wrong, and a fill that read the old record and lands after the scan
 * passed its key reads the new record in its confirmation), counts {@code lethe.region.holds.rewritten{reason}} and
 * warns, then deletes its intent.
 *
 * <p><b>Another instance's move.</b> Between a mover's record and its marker write, an instance still on the old file
 * sees the marker match its view and the record differ: rewriting it would let old-file readers fill behind the
 * mover's scan. The mover writes an intent with its record in one script ({@link NamespaceMarks#recordHolds}, with a
 * TTL of {@link NamespaceMarks#MOVE_INTENT_SECONDS}); an intent for other holds than this view's stops the rewrite (read
 * here, and checked again in the rewrite's script, which runs in the record's slot). One left by a mover that stopped
 * expires, and the record is then reconciled to the marker (the mover's next start finds its move again). An intent of
 * this view's holds never stops it: the marker records them once such a move is done. A move whose scan outlasts the
 * TTL (or whose intent a {@code volatile-*} policy evicted) gets its record rewritten by the old instances, then back by
 * its own reconciliation within {@link MarkerView#EVERY} of its marker write, each with a wholesale invalidation: what
 * old-file readers fill in between is served until that second invalidation, never longer.
 *
 * <p><b>Failures.</b> Redis failing while reading or rewriting: tried again at the next check, the state read again. A
 * record rewritten whose invalidation is not acknowledged yet stays pending in this instance and is invalidated first at
 * the next check; if the instance stops meanwhile, its {@code rewritten:} intent (a day's TTL) stays, and an instance of
 * the same view that finds it older than {@link #GRACE_MILLIS} invalidates the namespace ({@code reason=unfinished}).
 */
final class HoldsReconciler {
    private static final Logger LOG = LoggerFactory.getLogger(HoldsReconciler.class);
    /**
     * How old a {@code rewritten:} intent is before another instance takes its invalidation as not done: as long as a
     * move's intent lives, since the invalidation runs in place at {@code apply.pattern-keys-per-second} (20,000 a second:
     * 12 million keys in ten minutes); a shorter grace had instances of a large namespace start its scan over and over.
     */
    static final long GRACE_MILLIS = TimeUnit.SECONDS.toMillis(NamespaceMarks.MOVE_INTENT_SECONDS);
    /** The reasons of {@link RegionMeterNames#HOLDS_REWRITTEN}. */
    static final List<String> REASONS = RegionMeterNames.REWRITTEN_REASONS;

    private final String region;
    private final TopicMove.Marker marker;
    private final Records records;
    private final Set<String> configured;
    private final RegionMetrics metrics;
    private final WholesaleEvents wholesale;
    private final Clock clock;
    /** Namespaces rewritten here whose wholesale invalidation is not acknowledged yet, with the reason and holds. */
    private final Map<String, Rewrite> pending = new TreeMap<>();
    /** The intents last seen stopping a rewrite, by namespace: logged once per change. */
    private Map<String, String> skipped = Map.of();
    /** How often it reads the records ({@link MarkerView#EVERY}; tests: every call). */
    private final long every;
    private long lastRun;

    /** The reconciliation of {@code region}'s records in {@code redis}, as {@link RegionApply} wires it. */
    static HoldsReconciler of(io.lethe.config.LetheConfig config, io.lethe.config.RegionConfig region, TopicMove.Marker marker,
            RegionRedis redis, RegionMetrics metrics, Clock clock) {
        return new HoldsReconciler(region.name(), marker, Records.of(redis), config.namespaces().keySet(), metrics,
                new WholesaleEvents(config, region, clock), clock, MarkerView.EVERY);
    }

    HoldsReconciler(String region, TopicMove.Marker marker, Records records, Set<String> configured, RegionMetrics metrics,
            WholesaleEvents wholesale, Clock clock, long everyNanos) {
        this.every = everyNanos;
        this.lastRun = System.nanoTime() - everyNanos;
        this.region = region;
        this.marker = marker;
        this.records = records;
        this.configured = Set.copyOf(configured);
        this.metrics = metrics;
        this.wholesale = wholesale;
        this.clock = clock;
        REASONS.forEach(reason -> metrics.counted(RegionMeterNames.HOLDS_REWRITTEN, reason, 0));
    }

    /** The region's Redis as a reconciliation reads and writes it. */
    interface Records {
        NamespaceMarks.Holds read(String namespace);

        /** {@link NamespaceMarks#rewriteHolds}. */
        boolean rewrite(String namespace, String expected, String value);

        /** {@link NamespaceMarks#clearIntent}. */
        void finished(String namespace, String intent);

        static Records of(RegionRedis redis) {
            return new Records() {
                @Override
                public NamespaceMarks.Holds read(String namespace) {
                    return redis.namespaceMarks().holdsAndIntent(namespace);
                }

                @Override
                public boolean rewrite(String namespace, String expected, String value) {
                    return redis.namespaceMarks().rewriteHolds(namespace, expected, value);
                }

                @Override
                public void finished(String namespace, String intent) {
                    redis.namespaceMarks().clearIntent(namespace, intent);
                }
            };
        }
    }

    /** A record rewritten here (or found unfinished): why, and to what. */
    record Rewrite(String reason, String holds) {
    }

    /**
     * Why the record {@code found} of a namespace whose holds this view renders {@code expected} must be rewritten and the
     * namespace invalidated ({@code absent}, {@code other}, {@code unfinished}), if it must; {@code received}: this view
     * receives it (an absent record of one it does not is left: not known to have been this region's).
     */
    static Optional<String> decide(String expected, boolean received, NamespaceMarks.Holds found) {
        String intent = found.intent();
        if (intent != null && !intent.equals(expected)) {
            if (intent.equals(RedisLayout.REWRITTEN + expected)) {
                // a rewrite of this view: its instance is at it, or stopped before its invalidation was acknowledged
                long age = TimeUnit.SECONDS.toMillis(NamespaceMarks.REWRITE_INTENT_SECONDS) - found.intentMillisLeft();
                return found.intentMillisLeft() >= 0 && age >= GRACE_MILLIS ? Optional.of("unfinished") : Optional.empty();
            }
            if (!intent.startsWith(RedisLayout.REWRITTEN)) {
                return Optional.empty(); // another configuration's move records its holds: its marker comes next
            }
        }
        if (found.record() == null) {
            return received ? Optional.of("absent") : Optional.empty();
        }
        return found.record().equals(expected) ? Optional.empty() : Optional.of("other");
    }

    /**
     * Reconciles the records of {@code own} (null: this instance's view is not decided or its marker not written, then
     * nothing), after the marker check found it matching. Returns false when the region closed before Redis acknowledged
     * the invalidation (the pending namespaces' intents stay for the next start).
     */
    boolean reconcile(TopicMove.Fed own, Applying applying) throws InterruptedException {
        if (own == null || System.nanoTime() - lastRun < every) {
            return true;
        }
        lastRun = System.nanoTime();
        try {
            found(own);
        } catch (RuntimeException e) {
            // Redis does not answer: the apply path reports it; read again at the next check, never skipped
            LOG.debug("region {}: cannot compare the holds records yet ({})", region, e.toString());
        }
        if (pending.isEmpty()) {
            return true;
        }
        Map<String, Rewrite> now = new TreeMap<>(pending);
        if (applying.apply(BatchPlan.of(wholesale.of("holds-rewritten:" + clock.millis(), 0, List.copyOf(now.keySet()),
                Map.of()))) == null) {
            return false;
        }
        now.forEach((ns, rewrite) -> {
            pending.remove(ns);
            metrics.counted(RegionMeterNames.HOLDS_REWRITTEN, rewrite.reason(), 1);
            try {
                records.finished(ns, RedisLayout.REWRITTEN + rewrite.holds());
            } catch (RuntimeException e) {
                LOG.debug("region {}: the intent beside namespace {}'s holds record is left to expire ({})", region, ns, e.toString());
            }
        });
        Map<String, String> reasons = new TreeMap<>();
        now.forEach((ns, rewrite) -> reasons.put(ns, rewrite.reason()));
        LOG.warn("region {}: the region's Redis recorded no or other holds (lethe:holds:<namespace>) than this instance's "
                + "configuration, which the topic marker records, for namespaces {} (evicted, deleted, a failover that lost it, a "
                + "move stopped half-way and rolled back, a downgrade; unfinished: a rewrite whose instance stopped before its "
                + "invalidation): rewritten, then invalidated wholesale (what readers filled meanwhile is gone); counted as "
                + "lethe.region.holds.rewritten{reason}", region, reasons);
        return true;
    }

    /** Adds to {@link #pending} what the records of {@code own}'s namespaces need, rewriting them where they are wrong. */
    private void found(TopicMove.Fed own) {
        Map<String, String> expected = new TreeMap<>();
        own.receives().forEach(ns -> expected.put(ns, RedisLayout.holds(own.readerHolds(ns))));
        configured.stream().filter(ns -> !own.receives().contains(ns)).forEach(ns -> expected.put(ns, RedisLayout.NOT_RECEIVED));
        Map<String, NamespaceMarks.Holds> wrong = new LinkedHashMap<>();
        Map<String, String> moving = new TreeMap<>();
        for (Map.Entry<String, String> e : expected.entrySet()) {
            if (pending.containsKey(e.getKey())) {
                continue;
            }
            NamespaceMarks.Holds found = records.read(e.getKey());
            if (decide(e.getValue(), own.receives().contains(e.getKey()), found).isPresent()) {
                wrong.put(e.getKey(), found);
            } else if (found.intent() != null && !found.intent().startsWith(RedisLayout.REWRITTEN)
                    && !found.intent().equals(e.getValue()) && !e.getValue().equals(found.record())) {
                moving.put(e.getKey(), found.intent());
            }
        }
        if (!moving.equals(skipped)) {
            skipped = moving;
            if (!moving.isEmpty()) {
                LOG.warn("region {}: namespaces {} record other holds than this instance's configuration, under another instance's "
                        + "move (the intent beside each record): left to it until its marker is written or the intent expires",
                        region, moving.keySet());
            }
        }
        // the marker read again after the records: a move whose intent was gone by then has written its marker before
        if (wrong.isEmpty() || !matches(own, marker.read())) {
            return;
        }
        wrong.forEach((ns, found) -> {
            String holds = expected.get(ns);
            String reason = decide(holds, own.receives().contains(ns), found).orElseThrow();
            if (records.rewrite(ns, found.record(), holds)) {
                pending.put(ns, new Rewrite(reason, holds));
            }
        });
    }

    /** The marker records {@code own} (topic, namespaces and what each holds); one of an older version (no namespaces) does not. */
    static boolean matches(TopicMove.Fed own, Optional<TopicMove.Fed> recorded) {
        return recorded.isPresent() && !recorded.get().receives().isEmpty() && recorded.get().topic().equals(own.topic())
                && FedDiff.changed(recorded.get(), own).isEmpty();
    }
}
