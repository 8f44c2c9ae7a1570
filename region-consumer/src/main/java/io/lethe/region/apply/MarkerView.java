package io.lethe.region.apply;

import io.lethe.schemas.DlqReason;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.health.Misconfiguration;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's view of what the region's Redis is fed ({@link TopicMove.Fed}, set at start-up by
 * {@link StartupFeed}) against the marker in that Redis, which the instance that last started on
 * another configuration wrote after its wholesale invalidation ({@link TopicMove}).
 *
 * <p>Instances of one region's group on different configurations (a rolling restart): one on the
 * old file refuses what a streams on the new one sends (a column version in a namespace it thinks is
 * {@code lsn}, a namespace it does not know, a key no template of its renders, an upsert in a delete
 * namespace, an upsert stamped with what the new file's entries hold); dead-lettered and committed past, that invalidation would never be applied, and its
 * restart on the new file would find the marker matching: nothing invalidated again. So when a
 * record is refused for such a reason ({@link #SKEW_REASONS}: the first such record of a poll batch,
 * {@link Admission}), and every {@link #EVERY} besides, the instance compares its view with the marker; when they differ it holds: the batch is sought back
 * (nothing of it applied, nothing committed past it), every partition paused (the consumer stays in
 * its group, lag grows), the region reports a misconfiguration (health DOWN, says why,
 * {@code lethe.stage.misconfigured}) and counts {@code lethe.region.retries{kind=config-skew}}
 * while it waits, until the marker matches its view again or it is closed (restarted on the file
 * the marker records).
 *
 * <p>After a restore of the region's Redis ({@link RestoreReplay}), the restored marker is compared
 * with this view the same way a start-up does ({@link #restored}).
 */
final class MarkerView {
    private static final Logger LOG = LoggerFactory.getLogger(MarkerView.class);
    /** How often a running instance compares its view with the marker, refusals aside. */
    static final long EVERY = TimeUnit.SECONDS.toNanos(5);
    /**
     * Refusals a configuration other than this instance's explains (its namespaces, keys, modes, version sources),
     * and {@code foreign-holds}: an upsert a streams on the file the marker records stamped otherwise than this
     * instance's file would stamp it is one this instance must not turn into a delete while its view differs
     * from the marker (it holds, and applies the upsert once restarted on that file); an instance whose view
     * matches applies the delete ({@link HoldsStamp}).
     */
    static final Set<DlqReason> SKEW_REASONS = EnumSet.of(DlqReason.UNKNOWN_NAMESPACE, DlqReason.FOREIGN_KEY,
            DlqReason.UPSERT_NOT_CONFIGURED, DlqReason.VERSION_OUT_OF_RANGE, DlqReason.FOREIGN_PATTERN,
            DlqReason.NAMESPACE_WIDE_PATTERN, DlqReason.FOREIGN_HOLDS);

    private final String region;
    private final TopicMove.Marker marker;
    private final Consumer<?, ?> consumer;
    private final Misconfiguration misconfiguration;
    private final RegionMetrics metrics;
    private volatile TopicMove.Fed own;
    /** The marker this instance decided on at start-up (empty: none), while its own write is not done. */
    private volatile Optional<TopicMove.Fed> basis = Optional.empty();
    private volatile boolean written;
    private volatile boolean holding;
    private Waiting waitPolling = wait -> false;
    private RestoreCheck restores = () -> {
    };
    private Applying applying;
    private final HoldsReconciler holdsRecords;
    private long lastChecked = System.nanoTime();

    /** {@code holdsRecords}: run after each periodic comparison that finds this view matching the marker (null: none). */
    MarkerView(String region, TopicMove.Marker marker, Consumer<?, ?> consumer, Misconfiguration misconfiguration,
            RegionMetrics metrics, HoldsReconciler holdsRecords) {
        this.holdsRecords = holdsRecords;
        this.region = region;
        this.marker = marker;
        this.consumer = consumer;
        this.misconfiguration = misconfiguration;
        this.metrics = metrics;
    }

    /** What this instance is fed, by its configuration, with its marker written (tests). */
    void own(TopicMove.Fed fed) {
        decided(fed, Optional.of(fed));
        written();
    }

    /**
     * What this instance is fed, decided at start-up (no move, or its move's or first feed's wholesale
     * invalidation done), on the marker {@code basis} it found then: compared with the marker from now on.
     */
    void decided(TopicMove.Fed fed, Optional<TopicMove.Fed> basis) {
        this.basis = basis;
        this.written = false;
        this.own = fed;
    }

    /** The marker of {@link #own} is written. */
    void written() {
        this.written = true;
    }

    TopicMove.Fed own() {
        return own;
    }

    /**
     * How the loop waits while holding (polling with every partition paused), and its restore check, run each
     * second of a hold: a Redis restored meanwhile brings an older marker, replayed and compared by the restore.
     */
    void loop(Waiting waiting, RestoreCheck restoreCheck, Applying applying) {
        this.waitPolling = waiting;
        this.restores = restoreCheck;
        this.applying = applying;
    }

    /** True while {@link #hold} keeps every partition paused. */
    boolean holding() {
        return holding;
    }

    /** Thrown by {@link Admission} for a record refused while this view differs from the marker: the batch is held. */
    static final class Held extends RuntimeException {
        Held(String why) {
            super(why, null, false, false);
        }
    }

    /** Why a record refused for {@code refusal} is held rather than dead-lettered, if it is. */
    Optional<String> onRefusal(EventRules.Refusal refusal) {
        if (!SKEW_REASONS.contains(refusal.reason())) {
            return Optional.empty();
        }
        lastChecked = System.nanoTime();
        Optional<String> why;
        try {
            why = differs();
        } catch (RuntimeException e) {
            // not known whether another instance's configuration explains it: held until the marker can be read
            why = Optional.of("the region's topic marker cannot be read (" + e + ")");
        }
        return why.map(w -> w + "; a record refused by this instance's configuration (" + refusal.reason().code()
                + ": " + refusal.message() + ") is held, not dead-lettered");
    }

    /** Why this instance's view differs from the marker, when {@link #EVERY} passed since the last comparison. */
    Optional<String> dueCheck() {
        if (System.nanoTime() - lastChecked < EVERY) {
            return Optional.empty();
        }
        lastChecked = System.nanoTime();
        try {
            return differs();
        } catch (RuntimeException e) {
            return Optional.empty(); // Redis does not answer: the apply path reports it; compared again next time
        }
    }

    /**
     * Why the marker in the region's Redis records another feed than this instance's view (another topic,
     * other namespaces received, other keys or contents of one), if it does. No marker, or no view yet: none.
     */
    Optional<String> differs() {
        TopicMove.Fed mine = own;
        if (mine == null) {
            return Optional.empty();
        }
        Optional<TopicMove.Fed> recorded = marker.read();
        if (recorded.isEmpty() || same(recorded.get(), mine)) {
            if (!written && recorded.isEmpty() && basis.isEmpty()) {
                complete(mine);
            }
            return Optional.empty();
        }
        TopicMove.Fed fed = recorded.get();
        if (!written && basis.isPresent() && same(fed, basis.get())) {
            // this instance's own write failed at start-up, and nobody wrote since: its feed is the one to record
            return complete(mine) ? Optional.empty() : Optional.of("the region's topic marker cannot be written yet");
        }
        if (!fed.topic().equals(mine.topic())) {
            return Optional.of("the region's Redis records topic " + fed.topic() + ", this instance's configuration routes it "
                    + mine.topic());
        }
        TreeSet<String> changed = fed.receives().isEmpty() ? new TreeSet<>() : FedDiff.changed(fed, mine);
        return changed.isEmpty()
                ? Optional.empty()
                : Optional.of("the region's Redis records another configuration of namespaces " + changed
                        + " than this instance's (another instance of the group started on another file)");
    }

    private static boolean same(TopicMove.Fed a, TopicMove.Fed b) {
        return a.topic().equals(b.topic()) && FedDiff.changed(a, b).isEmpty();
    }

    private boolean complete(TopicMove.Fed mine) {
        try {
            marker.write(mine);
            written = true;
            return true;
        } catch (RuntimeException e) {
            LOG.warn("region {}: cannot write the topic marker yet ({})", region, e.toString());
            return false;
        }
    }

    /**
     * After the loop's restore check ({@code rewound}: partitions it sought back, then nothing is compared: a
     * restored marker is the restore's to handle): holds when {@link #EVERY} passed and this view differs from the
     * marker, else lets {@link HoldsReconciler} reconcile the holds records when its period is due. Returns the records to
     * apply (none after a hold: they are read again), or null once closing.
     */
    ConsumerRecords<String, byte[]> checkedAfter(Set<TopicPartition> rewound, ConsumerRecords<String, byte[]> records)
            throws InterruptedException {
        Optional<String> skew = rewound.isEmpty() ? dueCheck() : Optional.empty();
        if (skew.isEmpty()) {
            // not holding: the holds records on the reconciler's own period (refusals reset this one), once the marker is written
            boolean reconciled = !rewound.isEmpty() || holdsRecords == null || holdsRecords.reconcile(written ? own : null, applying);
            return reconciled ? records : null;
        }
        return hold(skew.get(), records) ? ConsumerRecords.empty() : null;
    }

    /** {@link Admission#admit}, or null when a record refused for a skew held the batch ({@link #hold}). */
    Admission.Admitted admitOrHold(Admission admission, ConsumerRecords<String, byte[]> records, RegionDeadLetters deadLetters)
            throws InterruptedException {
        try {
            return admission.admit(records, deadLetters);
        } catch (Held held) {
            hold(held.getMessage(), records);
            return null;
        }
    }

    /**
     * Holds while this view differs from the marker: {@code records} (fetched, not applied) are sought
     * back, every partition is paused and the wait spent polling. Returns when the marker matches
     * again (partitions resumed) or false when the region is closing.
     */
    boolean hold(String why, ConsumerRecords<String, byte[]> records) throws InterruptedException {
        for (TopicPartition tp : records.partitions()) {
            consumer.seek(tp, records.records(tp).get(0).offset());
        }
        holding = true;
        Set<TopicPartition> pausedBefore = Set.copyOf(consumer.paused());
        consumer.pause(consumer.assignment());
        LOG.error("region {}: {}; not applying or committing until this instance runs the configuration the marker records "
                + "(restart it on that file) or the marker matches again", region, why);
        misconfiguration.report(Failure.fatal("configuration skew in the region's consumer group: " + why,
                "restart this instance on the configuration file the other instances of the group run", null));
        try {
            Optional<String> still = Optional.of(why);
            while (still.isPresent()) {
                metrics.retry("config-skew");
                if (!waitPolling.waitFor(Duration.ofSeconds(1))) {
                    return false;
                }
                try {
                    restores.check();
                    still = differs();
                } catch (WakeupException e) {
                    throw e; // closing
                } catch (RuntimeException e) {
                    LOG.debug("region {}: cannot read the topic marker yet ({}); still holding", region, e.toString());
                }
            }
        } finally {
            lastChecked = System.nanoTime();
            holding = false;
        }
        LOG.warn("region {}: the region's Redis records this instance's configuration again; applying", region);
        misconfiguration.clear();
        // only what the hold paused (or a rebalance paused during it): a partition paused for back-pressure stays paused
        Set<TopicPartition> resume = new java.util.HashSet<>(consumer.paused());
        resume.removeAll(pausedBefore);
        consumer.resume(resume);
        return true;
    }

    /** What a restored marker records otherwise than this view, to invalidate wholesale ({@link RestoredFeed#of}). */
    Optional<RestoredFeed.Stale> restored() {
        return RestoredFeed.of(this, marker);
    }

    /** After a restore: {@link RestoredFeed#invalidate}. */
    boolean invalidateRestored(String id, WholesaleEvents wholesale, Applying applying) throws InterruptedException {
        return RestoredFeed.invalidate(this, marker, region, metrics, id, wholesale, applying);
    }

    /** The loop's restore check ({@link RestoreReplay#check}). */
    interface RestoreCheck {
        void check() throws InterruptedException;
    }

    /** Spends a wait polling with every partition paused; false once the region is closing. */
    interface Waiting {
        boolean waitFor(Duration wait) throws InterruptedException;
    }
}
