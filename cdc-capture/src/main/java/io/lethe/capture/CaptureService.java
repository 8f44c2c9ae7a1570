package io.lethe.capture;

import io.lethe.capture.checks.CaptureStartupException;
import io.lethe.capture.engine.CaptureEngine;
import io.lethe.capture.engine.ChangeBatchHandler;
import io.lethe.capture.engine.EngineProperties;
import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.capture.metrics.CaptureMetrics;
import io.lethe.capture.publish.ChangePublisher;
import io.lethe.capture.slot.SlotMonitor;
import io.lethe.capture.slot.SlotRecovery;
import io.lethe.capture.slot.SourceConnection;
import io.lethe.capture.slot.SourcePreparer;
import io.lethe.config.LetheConfig;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.health.Misconfiguration;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cdc-capture: prepares the primary and its slot ({@link SlotRecovery}), runs Debezium Embedded
 * with a {@link ChangeBatchHandler} publishing each row change to {@code lethe.changes} and
 * marking it processed only after Kafka acknowledged it, and watches the slot ({@link SlotMonitor}).
 */
public final class CaptureService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureService.class);

    private final LetheConfig config;
    private final Clock clock;
    private final CaptureMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final ChangeEventMapper mapper;
    private final SlotMonitor monitor;
    private ChangePublisher publisher;
    private CaptureEngine engine;
    private volatile boolean streaming;

    public CaptureService(LetheConfig config, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.metrics = new CaptureMetrics(registry, config.source().slot());
        metrics.tables(config.tables());
        this.misconfiguration = new Misconfiguration(registry, "capture");
        this.mapper = new ChangeEventMapper(ColumnProjection.of(config), config.source().heartbeatTable(),
                config.source().region(), clock);
        this.monitor = new SlotMonitor(config, metrics);
    }

    /**
     * Runs the start-up checks and starts streaming.
     *
     * @throws CaptureStartupException listing every failed check with its fix
     */
    public void start() throws InterruptedException {
        publisher = new ChangePublisher(config, clock, misconfiguration, () -> metrics.error("publish-retry"),
                () -> metrics.error("record-too-large"));
        SourcePreparer preparer = new SlotRecovery(config, metrics, clock).prepare(publisher);
        Properties properties = EngineProperties.of(config, ColumnProjection.of(config), preparer.heartbeatQuery());
        engine = new CaptureEngine(properties, new ChangeBatchHandler(config, mapper, publisher, metrics, clock),
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

    /** True while Debezium is streaming from the slot and Kafka takes what capture publishes. */
    public boolean isStreaming() {
        return streaming && misconfiguration.current().isEmpty();
    }

    /** The configuration error (Kafka credentials or ACLs) that keeps capture from publishing, if one does. */
    public Optional<Failure> misconfigured() {
        return misconfiguration.current();
    }

    /** Why the engine stopped, if it failed. */
    public Optional<Throwable> failure() {
        return engine == null ? Optional.empty() : Optional.ofNullable(engine.failure());
    }

    /** True when the engine has stopped (after a failure or close). */
    public boolean isStopped() {
        return engine != null && engine.isDone();
    }

    @Override
    public void close() {
        monitor.close();
        if (engine != null) {
            engine.close();
        }
        if (publisher != null) {
            publisher.close();
        }
        metrics.running(false);
    }
}
