package io.lethe.capture;

import io.lethe.capture.engine.CaptureEngine;
import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.engine.ChangeBatchHandler;
import io.lethe.capture.engine.ChangePublisher;
import io.lethe.capture.engine.EngineProperties;
import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.capture.source.Drift;
import io.lethe.capture.source.SlotMonitor;
import io.lethe.capture.source.SlotRecovery;
import io.lethe.capture.source.SourceConnection;
import io.lethe.capture.source.SourcePreparer;
import io.lethe.capture.source.SourceWatch;
import io.lethe.config.LetheConfig;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.trace.Tracing;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the leading capture instance runs: prepares the primary and its slot ({@link SlotRecovery}),
 * runs Debezium Embedded with a {@link ChangeBatchHandler} publishing each row change to
 * {@code lethe.changes}, and watches the slot ({@link SlotMonitor}) and the source ({@link SourceWatch}).
 */
final class CaptureStreaming {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureStreaming.class);

    private final LetheConfig config;
    private final Clock clock;
    private final CaptureMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final ChangeEventMapper mapper;
    private final SlotMonitor monitor;
    /** Called when the source can no longer be decoded from this slot (see {@code CaptureService#stopForSource}). */
    private final Consumer<String> stopForSource;
    private Tracing tracing = Tracing.OFF;
    private ChangePublisher publisher;
    private CaptureEngine engine;
    private SourceWatch source;
    private volatile boolean streaming;

    CaptureStreaming(LetheConfig config, Clock clock, CaptureMetrics metrics, Misconfiguration misconfiguration, ChangeEventMapper mapper,
            SlotMonitor monitor, Consumer<String> stopForSource) {
        this.config = config;
        this.clock = clock;
        this.metrics = metrics;
        this.misconfiguration = misconfiguration;
        this.mapper = mapper;
        this.monitor = monitor;
        this.stopForSource = stopForSource;
    }

    void tracing(Tracing tracing) {
        this.tracing = tracing;
    }

    /** Prepares the slot, starts the engine, waits until it streams, then writes the first heartbeat and starts the watches. */
    void start() throws InterruptedException {
        publisher = new ChangePublisher(config, clock, misconfiguration, () -> metrics.error("publish-retry"),
                () -> metrics.error("record-too-large"), tracing);
        SlotRecovery.Prepared prepared = new SlotRecovery(config, metrics, clock).prepare(publisher);
        SourcePreparer preparer = prepared.preparer();
        source = new SourceWatch(config, metrics, publisher, clock, prepared.relied(), prepared.stored(), stopForSource);
        Properties properties = EngineProperties.of(config, ColumnProjection.of(config), preparer.heartbeatQuery());
        engine = new CaptureEngine(properties, new ChangeBatchHandler(config, mapper, publisher, metrics, clock, source::checkedSince),
                new CaptureEngine.Listener() {
                    @Override
                    public void streaming(boolean isStreaming) {
                        streaming = isStreaming;
                        metrics.running(isStreaming);
                    }

                    @Override
                    public void stopped(Throwable failure) {
                        if (failure != null) {
                            metrics.error("engine");
                        }
                    }
                });
        engine.start();
        awaitStreaming(Duration.ofSeconds(120));
        try (Connection c = SourceConnection.open(config)) {
            preparer.beat(c);
        } catch (SQLException e) {
            LOG.warn("cannot write the first heartbeat: {}", e.getMessage());
        }
        source.start();
        monitor.start();
        LOG.info("capture started: slot {}, tables {} -> {}", config.source().slot(), config.tables(), config.topics().changes());
    }

    /**
     * Waits until the engine polls and holds the slot: from then on every commit is captured.
     * Returning earlier would let changes committed before the slot existed go unseen.
     */
    private void awaitStreaming(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (engine.isDone()) {
                Throwable why = engine.failure();
                throw new IllegalStateException("capture engine stopped while starting: "
                        + (why == null ? "closed" : why.getMessage()), why);
            }
            if (streaming && monitor.slotActive()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("capture did not start streaming from slot " + config.source().slot()
                        + " within " + timeout);
            }
            Thread.sleep(50);
        }
    }

    /** True while Debezium is streaming from the slot. */
    boolean isStreaming() {
        return streaming;
    }

    /** What the source hides now (see {@code CaptureService#hiddenBySource}). */
    List<Drift> hidden() {
        return source == null ? List.of() : source.hidden();
    }

    Optional<Throwable> engineFailure() {
        return engine == null ? Optional.empty() : Optional.ofNullable(engine.failure());
    }

    boolean engineDone() {
        return engine != null && engine.isDone();
    }

    /** Stops the engine (leadership lost, or the source cannot be decoded any more). */
    void closeEngine() {
        if (engine != null) {
            engine.close();
        }
    }

    void close() {
        monitor.close();
        if (source != null) {
            source.close();
        }
        if (engine != null) {
            engine.close();
        }
        if (publisher != null) {
            publisher.close();
        }
    }
}
