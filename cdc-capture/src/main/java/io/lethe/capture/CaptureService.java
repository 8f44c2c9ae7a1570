package io.lethe.capture;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.engine.ChangeBatchHandler;
import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.capture.source.CaptureLeadership;
import io.lethe.capture.source.CaptureStartupException;
import io.lethe.capture.source.Drift;
import io.lethe.capture.source.SlotMonitor;
import io.lethe.capture.source.SlotRecovery;
import io.lethe.capture.source.SourceWatch;
import io.lethe.config.LetheConfig;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.health.SigningKeyIds;
import io.lethe.stage.trace.Tracing;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cdc-capture: takes the capture lock of the slot ({@link CaptureLeadership}) or stands by for it;
 * the leading instance ({@link CaptureStreaming}) prepares the primary and its slot
 * ({@link SlotRecovery}), runs Debezium Embedded with a {@link ChangeBatchHandler} publishing each
 * row change to {@code lethe.changes} and marking it processed only after Kafka acknowledged it,
 * and watches the slot ({@link SlotMonitor}) and everything of the source it relies on
 * ({@link SourceWatch}).
 */
public final class CaptureService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureService.class);

    private final LetheConfig config;
    private final CaptureMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final CaptureStreaming streaming;
    private final CaptureLeadership leadership;
    private volatile boolean standingBy;
    private volatile Throwable leadershipFailure;
    private Thread leaderThread;
    private volatile boolean closed;

    public CaptureService(LetheConfig config, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.metrics = new CaptureMetrics(registry, config.source().slot());
        metrics.tables(config.tables());
        this.misconfiguration = new Misconfiguration(registry, "capture");
        // capture signs its changes and watermarks and verifies nothing
        SigningKeyIds.register(registry, "capture", config.streams().signingKeys(), true, false);
        ChangeEventMapper mapper = new ChangeEventMapper(ColumnProjection.of(config), config.source().heartbeatTable(),
                config.source().region(), clock);
        this.streaming = new CaptureStreaming(config, clock, metrics, misconfiguration, mapper, new SlotMonitor(config, metrics),
                this::stopForSource);
        this.leadership = new CaptureLeadership(config);
    }

    /** Traces sampled changes with {@code tracing} (tracing.* of lethe.yml); call before {@link #start()}. */
    public CaptureService tracing(Tracing tracing) {
        streaming.tracing(tracing);
        return this;
    }

    /**
     * Takes the capture lock of the slot ({@link CaptureLeadership}); when it is free, runs the
     * start-up checks and starts streaming before returning. When another instance holds it, this
     * one stands by: it returns at once and takes over, on a thread of its own, as soon as the
     * lock is free.
     *
     * @throws CaptureStartupException listing every failed check with its fix
     */
    public void start() throws InterruptedException {
        boolean leading;
        try {
            leading = leadership.tryAcquire();
        } catch (SQLException e) {
            leading = false;
            LOG.warn("cannot try the capture lock of slot {} yet ({}); standing by until it can", config.source().slot(), e.getMessage());
        }
        if (leading) {
            lead();
        } else {
            standingBy = true;
            metrics.leader(false);
            leaderThread = new Thread(this::standBy, "lethe-capture-leadership");
            leaderThread.setDaemon(true);
            leaderThread.start();
        }
    }

    /** How many times this standby looked at who holds the capture lock (a test's sentinel). */
    long lockHolderChecks() {
        return leadership.holderChecks();
    }

    /** True while this instance waits for the capture lock. */
    public boolean isStandingBy() {
        return standingBy;
    }

    private void standBy() {
        try {
            leadership.awaitLeadership(this::foreignLockHolder);
            misconfiguration.clear();
            long t0 = System.nanoTime();
            LOG.warn("capture lock of slot {} taken: this instance captures now", config.source().slot());
            leadership.evictPreviousWalsender();
            lead();
            standingBy = false;
            LOG.info("capture took over slot {} in {} ms from acquiring the lock", config.source().slot(),
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!closed) {
                leadershipFailure = e;
                LOG.error("capture could not take over slot {}", config.source().slot(), e);
            }
        } finally {
            standingBy = false;
        }
    }

    /**
     * A session that is not Lethe's holds the capture lock: capture cannot lead while it does, so it
     * is a configuration error (health DOWN, the stage's metric, one ERROR line naming the holder).
     */
    private void foreignLockHolder(Optional<String> holder) {
        if (holder.isEmpty()) {
            misconfiguration.clear();
            return;
        }
        String slot = config.source().slot();
        String pid = holder.get().replaceAll("session pid (\\d+).*", "$1");
        misconfiguration.report(Failure.fatal("foreign-lock-holder", "the capture lock of slot " + slot + " (an advisory lock, keys "
                + CaptureLeadership.LOCK_CLASS + " and hashtext('" + slot + "')) is held by " + holder.get() + ", which is not a "
                + "Lethe capture, so no capture can lead; find who took it, then end it: SELECT pg_terminate_backend(" + pid + ");", null));
    }

    /** Leads: prepares the slot, streams, and watches that the lock stays ours. */
    private void lead() throws InterruptedException {
        metrics.leader(true);
        Thread watch = new Thread(this::watchLock, "lethe-capture-lock-watch");
        watch.setDaemon(true);
        watch.start();
        streaming.start();
    }

    /**
     * Stops capturing the moment the lock connection fails: the server released the lock with it,
     * and a standby may be taking over the slot. The process then reports capture stopped.
     */
    private void watchLock() {
        while (!closed) {
            try {
                Thread.sleep(CaptureLeadership.POLL.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            if (!closed && !leadership.stillHeld()) {
                leadershipFailure = new IllegalStateException("lost the capture lock of slot " + config.source().slot()
                        + " (its connection to the primary failed): stopped, so that a standby can take over");
                LOG.error("{}", leadershipFailure.getMessage());
                metrics.leader(false);
                streaming.closeEngine();
                return;
            }
        }
    }

    /**
     * The source can no longer be decoded from this slot (its publication was dropped): capture
     * stops, as when it loses the capture lock, so that its next start makes a new slot.
     */
    private void stopForSource(String why) {
        leadershipFailure = new IllegalStateException(why);
        LOG.error("{}", why);
        metrics.running(false);
        Thread stopper = new Thread(streaming::closeEngine, "lethe-capture-stop");
        stopper.setDaemon(true);
        stopper.start();
    }

    /**
     * The conditions of the source that hide changes capture needs now (a table out of the
     * publication, publish without update, an UNLOGGED table...): capture resets their
     * namespaces while they last, and its health is DOWN. Empty while the source publishes all.
     */
    public List<Drift> hiddenBySource() {
        return streaming.hidden();
    }

    /** The error that ended this instance's leadership or take-over, if one did. */
    public Optional<Throwable> leadershipFailure() {
        return Optional.ofNullable(leadershipFailure);
    }

    /** True while Debezium is streaming from the slot and Kafka takes what capture publishes. */
    public boolean isStreaming() {
        return streaming.isStreaming() && misconfiguration.current().isEmpty();
    }

    /** The configuration error (Kafka credentials or ACLs) that keeps capture from publishing, if one does. */
    public Optional<Failure> misconfigured() {
        return misconfiguration.current();
    }

    /** Why the engine stopped, if it failed. */
    public Optional<Throwable> failure() {
        if (leadershipFailure != null) {
            return Optional.of(leadershipFailure);
        }
        return streaming.engineFailure();
    }

    /** True when the engine has stopped (after a failure or close), or leading failed. */
    public boolean isStopped() {
        return leadershipFailure != null || streaming.engineDone();
    }

    @Override
    public void close() {
        closed = true;
        if (leaderThread != null) {
            leaderThread.interrupt();
        }
        streaming.close();
        leadership.close();
        metrics.running(false);
        metrics.leader(false);
    }
}
