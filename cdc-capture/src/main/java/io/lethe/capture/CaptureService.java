package io.lethe.capture;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.lethe.capture.checks.CheckResult;
import io.lethe.capture.checks.DatabaseChecks;
import io.lethe.capture.engine.CaptureEngine;
import io.lethe.capture.engine.EngineProperties;
import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.capture.mapping.Resets;
import io.lethe.capture.mapping.TransactionBuffer;
import io.lethe.capture.mapping.TransactionMarker;
import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.capture.metrics.CaptureMetrics;
import io.lethe.capture.publish.ChangePublisher;
import io.lethe.capture.slot.OffsetHistory;
import io.lethe.capture.slot.SourcePreparer;
import io.lethe.capture.slot.SourcePreparer.SlotState;
import io.lethe.config.LetheConfig;
import io.lethe.config.kafka.TopicSetup;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * cdc-capture: checks the primary, prepares publication and heartbeat table, detects a lost
 * slot (and then invalidates every namespace before streaming again), and runs Debezium
 * Embedded, publishing each row change to {@code lethe.changes} and marking it processed only
 * after Kafka acknowledged it.
 */
public final class CaptureService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureService.class);
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(60);

    private final LetheConfig config;
    private final Clock clock;
    private final CaptureMetrics metrics;
    private final ChangeEventMapper mapper;
    private final ScheduledExecutorService monitor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lethe-capture-slot-monitor");
        t.setDaemon(true);
        return t;
    });
    private ChangePublisher publisher;
    private CaptureEngine engine;
    private volatile boolean streaming;

    public CaptureService(LetheConfig config, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.metrics = new CaptureMetrics(registry, config.source().slot());
        metrics.tables(config.tables());
        this.mapper = new ChangeEventMapper(ColumnProjection.of(config), config.source().heartbeatTable(),
                config.source().region(), clock);
    }

    /**
     * Runs the start-up checks and starts streaming.
     *
     * @throws CaptureStartupException listing every failed check with its fix
     */
    public void start() throws InterruptedException {
        SourcePreparer preparer = new SourcePreparer(config);
        SlotState slot;
        try (Connection c = connect()) {
            List<CheckResult> results = new DatabaseChecks(config).run(c);
            results.stream().filter(r -> r.status() == CheckResult.Status.WARN).forEach(r -> LOG.warn("{}", r));
            List<CheckResult> failed = results.stream().filter(r -> r.status() == CheckResult.Status.FAIL).toList();
            if (!failed.isEmpty()) {
                throw new CaptureStartupException(failed);
            }
            preparer.ensureHeartbeatTable(c);
            preparer.ensurePublication(c);
            TopicSetup.ensure(config.kafka(), List.of(config.topics().changes(), config.topics().dlq()), KAFKA_TIMEOUT);
            OptionalLong lastLsn = OffsetHistory.lastLsn(config, EngineProperties.serverName(config), KAFKA_TIMEOUT);
            boolean streamedBefore = preparer.hasBeaten(c) || lastLsn.isPresent();
            slot = preparer.inspectSlot(c, streamedBefore, lastLsn);
            publisher = new ChangePublisher(config, () -> metrics.error("publish-retry"));
            if (slot == SlotState.MISSING || slot == SlotState.LOST || slot == SlotState.RECREATED) {
                // The new slot first: changes from here on are streamed; all earlier ones are older
                // than the reset's LSN, read after it, and so covered by the reset. Crash-safe: the
                // stored offset is forgotten only after the reset is acknowledged, so a capture that
                // dies in between finds a slot beyond its offset next time (RECREATED) and resets then.
                if (slot != SlotState.RECREATED) {
                    preparer.createSlot(c);
                }
                long lsn = SourcePreparer.currentLsn(c);
                LOG.error("replication slot {} was {}: changes since capture last ran may be lost; invalidating "
                        + "every namespace ({}) at LSN {} before streaming again", config.source().slot(), switch (slot) {
                            case LOST -> "invalidated (wal_status = lost)";
                            case RECREATED -> "made again while capture was away (it starts past capture's stored offset "
                                    + lastLsn.getAsLong() + ")";
                            default -> "dropped";
                        }, config.namespaces().keySet(), lsn);
                publisher.publishAll(resetEvents(lsn));
                OffsetHistory.forget(config, EngineProperties.serverName(config), KAFKA_TIMEOUT);
                metrics.slotReset();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare capture on " + io.lethe.config.JdbcUrls.forDisplay(config.source().jdbcUrl())
                    + ": " + e.getMessage(), e);
        }
        Properties properties = EngineProperties.of(config, ColumnProjection.of(config), preparer.heartbeatQuery());
        engine = new CaptureEngine(properties, new Handler(), new CaptureEngine.Listener() {
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
        try (Connection c = connect()) {
            preparer.beat(c);
        } catch (SQLException e) {
            LOG.warn("cannot write the first heartbeat: {}", e.getMessage());
        }
        monitor.scheduleWithFixedDelay(this::measureSlot, 0, 5, TimeUnit.SECONDS);
        monitor.scheduleWithFixedDelay(this::checkDrift, 60, 60, TimeUnit.SECONDS);
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
            if (streaming && slotActive()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("capture did not start streaming from slot " + config.source().slot()
                        + " within " + timeout);
            }
            Thread.sleep(50);
        }
    }

    private boolean slotActive() {
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, config.source().slot());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            return false;
        }
    }

    /** True while Debezium is streaming from the slot. */
    public boolean isStreaming() {
        return streaming;
    }

    /** Why the engine stopped, if it failed. */
    public Optional<Throwable> failure() {
        return engine == null ? Optional.empty() : Optional.ofNullable(engine.failure());
    }

    /** True when the engine has stopped (after a failure or close). */
    public boolean isStopped() {
        return engine != null && engine.isDone();
    }

    private List<ChangeEvent> resetEvents(long lsn) {
        return Resets.all(config, lsn, nowMicros());
    }

    /**
     * Re-runs the table checks: a REPLICA IDENTITY or a column changed after start-up makes the
     * streams stage invalidate wider than needed (fail closed); this says why, once a minute.
     */
    private void checkDrift() {
        try (Connection c = connect()) {
            List<CheckResult> failing = new DatabaseChecks(config).tables(c).stream()
                    .filter(r -> r.status() == CheckResult.Status.FAIL).toList();
            metrics.drift(failing.size());
            failing.forEach(r -> LOG.error("the source changed since capture started (changes are invalidated wider until it is "
                    + "fixed): {}", r));
        } catch (SQLException e) {
            LOG.debug("cannot re-check the tables: {}", e.toString());
        }
    }

    private void measureSlot() {
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                     + "FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, config.source().slot());
            try (ResultSet rs = ps.executeQuery()) {
                metrics.retainedBytes(rs.next() ? rs.getLong(1) : -1);
            }
        } catch (SQLException e) {
            LOG.debug("cannot measure slot {}: {}", config.source().slot(), e.toString());
        }
    }

    private Connection connect() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", config.source().user());
        if (config.source().password() != null) {
            props.setProperty("password", config.source().password().reveal());
        }
        return DriverManager.getConnection(config.source().jdbcUrl(), props);
    }

    private long nowMicros() {
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    /**
     * Publishes a batch, waits for Kafka's acknowledgement, and only then marks it processed. Rows
     * of a transaction wait in a {@link TransactionBuffer} for its END record (their commit LSN),
     * so records of a transaction still open at the end of a batch stay unmarked until a later
     * batch publishes them: capture never marks a record whose change Kafka does not hold.
     */
    private final class Handler implements CaptureEngine.BatchHandler {
        private static final String PUBLISH_THREAD = "lethe-capture-publish";
        private final TransactionBuffer transactions = new TransactionBuffer(config);
        /** Records handed over but not marked processed yet, in order. */
        private final List<RecordChangeEvent<SourceRecord>> unmarked = new ArrayList<>();

        @Override
        public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
                                DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
                throws InterruptedException {
            Thread current = Thread.currentThread();
            if (!current.getName().startsWith(PUBLISH_THREAD)) {
                // Debezium runs this on an anonymous pool thread; named, it shows up in thread dumps and profiles
                current.setName(PUBLISH_THREAD);
            }
            List<ChangeEvent> events = new ArrayList<>(records.size());
            int markable = 0;
            long overflowsBefore = transactions.overflows();
            for (RecordChangeEvent<SourceRecord> r : records) {
                SourceRecord record = r.record();
                unmarked.add(r);
                long now = nowMicros();
                Optional<TransactionMarker> marker = TransactionMarker.of(record);
                if (marker.isPresent()) {
                    events.addAll(marker.get().begin() ? transactions.begin(marker.get().txId(), now)
                            : transactions.end(marker.get().txId(), marker.get().commitLsn(), now));
                } else {
                    try {
                        mapper.map(record).ifPresent(e -> events.addAll(transactions.add(e, now)));
                    } catch (RuntimeException e) {
                        // fail closed: what changed in the table is unknown, so its namespaces are reset
                        List<ChangeEvent> resets = ChangeEventMapper.tableOf(record)
                                .map(table -> Resets.forTables(config, List.of(table), Math.max(0, position(record)), now))
                                .orElse(List.of());
                        events.addAll(resets);
                        metrics.error("unmappable");
                        LOG.error("cannot map a change from {} (sent to the DLQ; {} namespace(s) reset instead): {}", record.topic(),
                                resets.size(), e.getMessage());
                        publisher.deadLetter(String.valueOf(record.value()).getBytes(StandardCharsets.UTF_8),
                                DlqReason.MALFORMED.code(), e.getMessage(), record.topic(), position(record));
                    }
                }
                if (!transactions.isOpen()) {
                    markable = unmarked.size();
                }
            }
            publisher.publishAll(events);
            metrics.batch(events.size());
            long now = nowMicros();
            for (ChangeEvent event : events) {
                metrics.published(event.source().qualifiedName(), event.op().code(), event.commitTs(), now);
            }
            for (long i = overflowsBefore; i < transactions.overflows(); i++) {
                metrics.error("transaction-too-large");
            }
            List<RecordChangeEvent<SourceRecord>> done = unmarked.subList(0, markable);
            for (RecordChangeEvent<SourceRecord> r : done) {
                committer.markProcessed(r);
            }
            done.clear();
            committer.markBatchFinished();
        }

        private long position(SourceRecord record) {
            Object lsn = record.sourceOffset() == null ? null : record.sourceOffset().get("lsn");
            return lsn instanceof Number n ? n.longValue() : -1;
        }
    }

    @Override
    public void close() {
        monitor.shutdownNow();
        if (engine != null) {
            engine.close();
        }
        if (publisher != null) {
            publisher.close();
        }
        metrics.running(false);
    }

    /** Capture refused to start; the message lists every failed check and its fix. */
    public static final class CaptureStartupException extends IllegalStateException {
        private final List<CheckResult> failed;

        public CaptureStartupException(List<CheckResult> failed) {
            super("capture cannot start:\n" + failed.stream().map(r -> "  " + r).collect(Collectors.joining("\n")));
            this.failed = List.copyOf(failed);
        }

        public List<CheckResult> failed() {
            return failed;
        }
    }
}
