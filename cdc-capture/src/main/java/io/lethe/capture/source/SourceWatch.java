package io.lethe.capture.source;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.engine.ChangePublisher;
import io.lethe.capture.mapping.Resets;
import io.lethe.capture.source.Drift.Kind;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.SourceTable;
import io.lethe.stage.faults.FaultInjection;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches, while capture streams, everything of the source its correctness depends on
 * ({@link SourceDrifts}), and fails closed on any drift: the changes it may have hidden are
 * unknown, so the namespaces of the tables it concerns are reset.
 *
 * <p><b>When.</b> For each batch: a check that starts when the batch arrives (or later), on the
 * watch's own thread while the batch is mapped, and completes before the batch is published; and
 * every heartbeat interval when no batch comes. So every change and every watermark capture
 * publishes comes after a check that read the source after it was decoded, and so after it
 * committed, and after the resets that check needed. A watermark (and so the end-to-end lag and
 * read-your-writes tokens) is published only while nothing hides changes: it never vouches for a
 * moment whose changes a drift hid. One prepared catalog query on a connection of its own, about
 * a millisecond (docs/benchmarks.md); overlapped with mapping, a large batch waits for nothing
 * and a single change for about that millisecond.
 *
 * <p><b>Ordering.</b> A drift found is reset at the LSN read after the state was read, once
 * whatever capture repairs is in place: every change the gap hid committed before that LSN, and
 * every later one is decoded. The new state is stored only after the resets were acknowledged
 * ({@link StateStore}), so a crash in between resets again at the next start.
 *
 * <p><b>Repairs.</b> Where capture owns its publication ({@code create-publication: true} and the
 * role may), it puts back what it needs: a table dropped from it (or swapped for a new one) is
 * added, {@code publish} and {@code publish_via_partition_root} are set back; then it resets. It
 * never changes a table (SET LOGGED) or a row filter. While a drift it cannot repair lasts, the
 * namespaces are reset every {@link #HIDDEN_RESET_INTERVAL} (a value cached meanwhile is stale at
 * most that long), health is DOWN, and the log and {@code lethe doctor} name the fix. A
 * publication dropped (or made again) leaves a slot PostgreSQL cannot decode past: capture resets
 * every namespace and stops, and at its next start re-creates the slot.
 *
 * <p>The fault-injection knob {@link FaultInjection#SOURCE_WATCH} (tests only) turns every check
 * into a no-op that vouches, as a capture without this watch would behave.
 */
public final class SourceWatch implements AutoCloseable {
    /** How often the namespaces of a drift capture cannot repair are reset again while it lasts. */
    public static final Duration HIDDEN_RESET_INTERVAL = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(SourceWatch.class);

    private final LetheConfig config;
    private final CaptureMetrics metrics;
    private final ChangePublisher publisher;
    private final Clock clock;
    private final Consumer<String> stop;
    /** Runs every check, one at a time. */
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lethe-capture-source-watch");
        t.setDaemon(true);
        return t;
    });
    private SourceState relied;
    private boolean stored;
    private final WatchConnection connection;
    private volatile List<Drift> hidden = List.of();
    private long hiddenResetNanos;
    private long lastFailureLogged = Long.MIN_VALUE;
    private volatile boolean stopped;
    // which check serves whom (guarded by this): the last finished, the one running, the one queued
    private long finishedStart = Long.MIN_VALUE;
    private boolean finishedVouched;
    private CompletableFuture<Boolean> running;
    private long runningStart;
    private CompletableFuture<Boolean> queued;

    /**
     * @param relied the state capture relied on when it started
     * @param stored whether {@code relied} is stored already
     * @param stop   told why capture must stop (a publication dropped under it)
     */
    public SourceWatch(LetheConfig config, CaptureMetrics metrics, ChangePublisher publisher, Clock clock, SourceState relied,
            boolean stored, Consumer<String> stop) {
        this.config = config;
        this.metrics = metrics;
        this.publisher = publisher;
        this.clock = clock;
        this.relied = relied;
        this.stored = stored;
        this.stop = stop;
        this.connection = new WatchConnection(config, "lethe-capture-source-watch");
    }

    /** Checks once now, then every heartbeat interval in which no batch had it check. */
    public void start() throws InterruptedException {
        await(checkedSince(System.nanoTime()));
        long every = Math.max(100, config.source().heartbeatInterval().toMillis());
        scheduler.scheduleWithFixedDelay(() -> checkedSince(System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(every)),
                every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * A check of the source that starts at or after {@code sinceNanos} ({@link System#nanoTime()}):
     * the one running or queued when it qualifies, else a new one, run on the watch's own thread
     * (so a batch maps its records meanwhile). It completes once every reset it needed was
     * published.
     *
     * @return completes with true when capture can vouch for that moment: the check ran and
     *         nothing hides changes now. While something does, the changes since the last
     *         periodic reset are unknown, so no watermark may say everything before it was
     *         captured (lag then grows, and read-your-writes tokens read the database).
     */
    public synchronized CompletableFuture<Boolean> checkedSince(long sinceNanos) {
        if (finishedStart != Long.MIN_VALUE && finishedStart - sinceNanos >= 0) {
            return CompletableFuture.completedFuture(finishedVouched);
        }
        if (running != null && runningStart - sinceNanos >= 0) {
            return running;
        }
        if (queued == null) {
            queued = new CompletableFuture<>();
            try {
                scheduler.execute(this::runQueued);
            } catch (RejectedExecutionException closed) {
                queued.complete(false);
                CompletableFuture<Boolean> refused = queued;
                queued = null;
                return refused;
            }
        }
        return queued;
    }

    /** Waits for a check from {@link #checkedSince}: true when it vouches, false when it cannot (or failed). */
    public static boolean await(CompletableFuture<Boolean> check) throws InterruptedException {
        try {
            return check.get();
        } catch (ExecutionException e) {
            return false;
        }
    }

    private void runQueued() {
        CompletableFuture<Boolean> mine;
        synchronized (this) {
            mine = queued;
            queued = null;
            running = mine;
            runningStart = System.nanoTime();
        }
        boolean vouched = false;
        try {
            vouched = check() && hidden.isEmpty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("the source watch failed; it checks again with the next batch or heartbeat", e);
        } finally {
            synchronized (this) {
                finishedStart = runningStart;
                finishedVouched = vouched;
                running = null;
            }
            mine.complete(vouched);
        }
    }

    /** The conditions hiding changes now (empty while the source publishes all capture needs). */
    public List<Drift> hidden() {
        return hidden;
    }

    /** One check, on the watch's thread: reads the state, repairs, resets, stores; false when the source could not be read. */
    private boolean check() throws InterruptedException {
        if (stopped) {
            return false;
        }
        if (FaultInjection.off(FaultInjection.SOURCE_WATCH, config.source().publication())) {
            return true; // a test's fault injection: the watch is not there, and nothing it would catch is caught
        }
        long started = System.nanoTime();
        try {
            Connection c = connection.get();
            SourceState now = SourceState.read(connection.query(), config);
            List<Drift> ongoing = SourceDrifts.ongoing(config, now);
            if (!ongoing.isEmpty() && PublicationRepair.repair(config, c, now)) {
                now = SourceState.read(connection.query(), config);
                ongoing = SourceDrifts.ongoing(config, now);
            }
            List<Drift> since = SourceDrifts.since(config, relied, now, SourceState.emptyLeaves(c));
            boolean fresh = ongoing.stream().anyMatch(d -> !hidden.contains(d));
            boolean again = !ongoing.isEmpty() && started - hiddenResetNanos >= HIDDEN_RESET_INTERVAL.toNanos();
            List<Drift> reset = new ArrayList<>(since);
            if (fresh || again) {
                reset.addAll(ongoing);
                hiddenResetNanos = started;
            }
            if (!reset.isEmpty()) {
                resetNamespaces(c, reset, since, ongoing, fresh);
            }
            // relied on from now: the state just read (with the names of columns gone, kept), stored whenever it
            // differs, so that each check compares with the last one (a column altered in one interval and the table
            // rewritten in another are not taken for one ALTER COLUMN ... TYPE ... USING)
            SourceState next = ColumnDrifts.carry(relied, now);
            if (!since.isEmpty() || !stored || !next.equals(relied)) {
                stored = StateStore.save(c, config, next);
                relied = next;
            }
            hidden = List.copyOf(ongoing);
            metrics.sourceHidden(ongoing.size());
            if (reset.stream().anyMatch(d -> d.kind() == Kind.PUBLICATION)) {
                stopped = true;
                stop.accept("publication " + config.source().publication() + " was dropped"
                        + (now.publication() == null ? "" : " and made again") + " while capture streamed: PostgreSQL cannot decode "
                        + "the slot past that point. Every namespace was reset; capture stops, and its next start makes a new slot"
                        + (now.publication() == null
                                ? " (once the publication exists: "
                                        + (config.source().createPublication() ? "capture makes it when the role may, else " : "")
                                        + "CREATE PUBLICATION "
                                        + config.source().publication() + " ...)"
                                : ""));
            }
            return true;
        } catch (SQLException e) {
            connection.close();
            metrics.error("source-check");
            if (started - lastFailureLogged > TimeUnit.MINUTES.toNanos(1)) {
                lastFailureLogged = started;
                LOG.warn("cannot check the source for drift ({}); watermarks wait until it can", e.getMessage());
            }
            return false;
        }
    }

    /** Publishes the resets of {@code reset} at an LSN read now, after the state it saw; counts and logs each drift. */
    private void resetNamespaces(Connection c, List<Drift> reset, List<Drift> since, List<Drift> ongoing, boolean fresh)
            throws SQLException, InterruptedException {
        long lsn = SourcePreparer.currentLsn(c);
        Set<String> tables = reset.stream().flatMap(d -> d.tables().stream()).collect(Collectors.toCollection(LinkedHashSet::new));
        List<SourceTable> sources = tables.stream().map(config::sourceTable).toList();
        publisher.publishAll(Resets.forTables(config, sources, lsn, clock.millis() * 1000));
        List<String> namespaces = SourceDrifts.namespaces(config, reset);
        for (Drift d : since) {
            // one that lasts is told (and counted) once, with its fix, below
            if (ongoing.stream().noneMatch(o -> o.kind() == d.kind() && o.tables().equals(d.tables()))) {
                metrics.sourceDrift(d.kind().tag());
                LOG.error("the source drifted ({}): {}; namespaces {} reset at LSN {}", d.kind().tag(), d.what(), namespaces, lsn);
            }
        }
        for (Drift d : ongoing) {
            if (fresh && !hidden.contains(d)) {
                metrics.sourceDrift(d.kind().tag());
            }
            LOG.error("the source hides changes capture needs ({}): {}; namespaces {} reset at LSN {}, again every {} s while it lasts. "
                    + "Fix: {}", d.kind().tag(), d.what(), namespaces, lsn, HIDDEN_RESET_INTERVAL.toSeconds(), d.fix());
        }
    }

    @Override
    public void close() {
        stopped = true;
        scheduler.shutdownNow();
        try {
            if (scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                connection.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (queued != null) {
                queued.complete(false);
            }
        }
    }
}
