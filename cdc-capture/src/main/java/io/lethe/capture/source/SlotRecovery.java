package io.lethe.capture.source;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.engine.ChangePublisher;
import io.lethe.capture.engine.EngineProperties;
import io.lethe.capture.mapping.Resets;
import io.lethe.capture.source.SourcePreparer.SlotState;
import io.lethe.config.JdbcUrls;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.schemas.SourceTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What capture does before it streams: the start-up checks (refusing to start with every failed
 * check and its fix), the heartbeat table and publication, and the slot. A slot that is missing,
 * lost, made again while capture was away, or left behind by a dropped publication means changes
 * may be lost: every namespace is reset at the current LSN before streaming again. A source that
 * drifted since capture last relied on it (a table dropped from the publication, swapped, set
 * UNLOGGED...) resets the namespaces of the tables concerned.
 */
public final class SlotRecovery {
    private static final Logger LOG = LoggerFactory.getLogger(SlotRecovery.class);
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(60);

    private final LetheConfig config;
    private final CaptureMetrics metrics;
    private final Clock clock;

    public SlotRecovery(LetheConfig config, CaptureMetrics metrics, Clock clock) {
        this.config = config;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** What capture starts streaming with: the preparer (for the heartbeat) and the source state it relies on. */
    public record Prepared(SourcePreparer preparer, SourceState relied, boolean stored) {
    }

    /**
     * Checks and prepares the primary, and resets the namespaces whose changes may have been
     * missed: every one when the slot cannot be trusted, those of a source drift since capture
     * last relied on the source ({@link SourceDrifts}) otherwise.
     *
     * @return the preparer, for the heartbeat the engine runs, and the state now relied on
     * @throws CaptureStartupException listing every failed check with its fix
     */
    public Prepared prepare(ChangePublisher publisher) throws InterruptedException {
        SourcePreparer preparer = new SourcePreparer(config);
        try (Connection c = SourceConnection.open(config)) {
            List<CheckResult> results = new DatabaseChecks(config).run(c);
            results.stream().filter(r -> r.status() == CheckResult.Status.WARN).forEach(r -> LOG.warn("{}", r));
            List<CheckResult> failed = results.stream().filter(r -> r.status() == CheckResult.Status.FAIL).toList();
            if (!failed.isEmpty()) {
                throw new CaptureStartupException(failed);
            }
            preparer.ensureHeartbeatTable(c);
            // what the last capture relied on, before this one changes anything (it may add tables back)
            Optional<SourceState> relied = StateStore.load(c, config);
            Optional<String> reliedHistory = preparer.lastHistory(c);
            String history = preparer.history(c);
            preparer.ensurePublication(c);
            // capture's offsets too: Connect's offset store would create it alike (one partition, compacted), but a
            // locked-down cluster must be checked before the engine starts
            TopicSetup.ensure(config, KafkaRole.CAPTURE, List.of(config.topics().changes(), config.topics().dlq(),
                    config.topics().captureOffsets()), KAFKA_TIMEOUT);
            OptionalLong lastLsn = OffsetHistory.lastLsn(config, EngineProperties.serverName(config), KAFKA_TIMEOUT);
            boolean ownStreamedBefore = preparer.hasBeaten(c) || lastLsn.isPresent();
            // a capture shard whose slot never streamed while Lethe captured this source through other slots: a new shard,
            // or the first start after sharding a single capture, or tables moved to it. Whoever read its tables before may
            // have stopped before changes this slot will never see: the lost-slot path (make the slot, then reset its
            // namespaces at an LSN read after) covers them
            boolean newShard = !ownStreamedBefore && config.source().shard() != null && preparer.othersHaveBeaten(c);
            boolean streamedBefore = ownStreamedBefore || newShard;
            SourceState now = SourceState.read(c, config);
            List<Drift> drifts = relied.map(before -> SourceDrifts.since(config, before, now, leaf -> false))
                    .orElse(newShard
                            ? List.of(new Drift(Drift.Kind.ADDED, config.tables(), "capture shard " + config.source().shard()
                                    + " never streamed from slot " + config.source().slot()
                                    + " while Lethe captured this source through other "
                                    + "slots (a new shard, or its tables moved to it): their changes since their last reader stopped are unknown",
                                    "", false))
                            : streamedBefore
                                    ? List.of(new Drift(Drift.Kind.UNRECORDED, config.tables(), "capture streamed from slot "
                                            + config.source().slot()
                                            + " before but has no record of the source it relied on (the first start of a "
                                            + "Lethe that keeps one, or the heartbeat row was removed)", "", false))
                                    : List.of());
            if (reliedHistory.isPresent() && !reliedHistory.get().equals(history)) {
                resetHistory(c, preparer, publisher, reliedHistory.get(), history);
            }
            SlotState slot = preparer.inspectSlot(c, streamedBefore, lastLsn);
            if (slot == SlotState.HEALTHY && drifts.stream().anyMatch(d -> d.kind() == Drift.Kind.PUBLICATION)) {
                preparer.dropSlot(c);
                slot = SlotState.UNDECODABLE;
            }
            if (slot == SlotState.MISSING || slot == SlotState.LOST || slot == SlotState.RECREATED || slot == SlotState.UNDECODABLE) {
                reset(c, preparer, publisher, slot, lastLsn);
                drifts.forEach(d -> metrics.sourceDrift(d.kind().tag()));
            } else if (!drifts.isEmpty()) {
                resetDrifted(c, publisher, drifts);
            }
            // the slot is made when the engine starts (first start) or was just now
            SourceDrifts.ongoing(config, now).stream().filter(d -> d.kind() != Drift.Kind.SLOT)
                    .forEach(d -> LOG.error("the source hides changes capture needs ({}): {}. Fix: {}",
                            d.kind().tag(), d.what(), d.fix()));
            SourceState next = relied.map(before -> ColumnDrifts.carry(before, now)).orElse(now);
            boolean stored = StateStore.save(c, config, next);
            return new Prepared(preparer, next, stored);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare capture on " + JdbcUrls.forDisplay(config.source().jdbcUrl())
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * The source drifted since capture last relied on it (while it was down, or before it
     * checked): the namespaces of the tables concerned are reset at an LSN read now, after the
     * publication was prepared, so every change the drift hid is older than the reset and every
     * later one is streamed; then the new state is stored (a crash before resets again).
     */
    private void resetDrifted(Connection c, ChangePublisher publisher, List<Drift> drifts) throws SQLException, InterruptedException {
        long lsn = SourcePreparer.currentLsn(c);
        List<SourceTable> tables = drifts.stream().flatMap(d -> d.tables().stream()).distinct()
                .map(config::sourceTable).toList();
        publisher.publishAll(Resets.forTables(config, tables, lsn, clock.millis() * 1000));
        for (Drift d : drifts) {
            metrics.sourceDrift(d.kind().tag());
            LOG.error("the source drifted since capture last ran ({}): {}; namespaces {} reset at LSN {} before streaming again",
                    d.kind().tag(), d.what(), SourceDrifts.namespaces(config, List.of(d)), lsn);
        }
    }

    /**
     * The source's history changed since the last heartbeat (a restore, a failover to an
     * asynchronous standby, a blue/green switch: another system identifier or timeline): the
     * versions cached before are positions of the old history, perhaps above every new one, so
     * every namespace is reset deleting whatever is there, at an LSN read now; then the new history
     * is recorded (a crash before resets again). The regions' applied watermarks start again on
     * their own (the heartbeats name the new history).
     */
    private void resetHistory(Connection c, SourcePreparer preparer, ChangePublisher publisher, String before, String now)
            throws SQLException, InterruptedException {
        long lsn = SourcePreparer.currentLsn(c);
        LOG.error("the source's history changed since capture last ran (system identifier/timeline {} -> {}: a restore, a failover "
                + "to an asynchronous standby or another cluster): LSNs of the two cannot be compared; invalidating every namespace "
                + "({}) wholesale at LSN {} before streaming again", before, now, config.namespaces().keySet(), lsn);
        publisher.publishAll(Resets.allWholesale(config, lsn, clock.millis() * 1000));
        preparer.recordHistory(c);
        metrics.sourceDrift(Drift.Kind.HISTORY.tag());
    }

    /**
     * The new slot first: changes from here on are streamed; all earlier ones are older than the
     * reset's LSN, read after it, and so covered by the reset. Crash-safe: the stored offset is
     * forgotten only after the reset is acknowledged, so a capture that dies in between finds a
     * slot beyond its offset next time (RECREATED) and resets then.
     */
    private void reset(Connection c, SourcePreparer preparer, ChangePublisher publisher, SlotState slot, OptionalLong lastLsn)
            throws SQLException, InterruptedException {
        if (slot != SlotState.RECREATED) {
            preparer.createSlot(c);
        }
        long lsn = SourcePreparer.currentLsn(c);
        LOG.error("replication slot {} was {}: changes since capture last ran may be lost; invalidating every namespace ({}) "
                + "at LSN {} before streaming again", config.source().slot(), switch (slot) {
                    case LOST -> "invalidated (wal_status = lost)";
                    case UNDECODABLE -> "left behind by publication " + config.source().publication() + ", dropped (and perhaps made "
                            + "again) since capture last ran: PostgreSQL cannot decode it past that point, so it was dropped";
                    case RECREATED -> "made again while capture was away (it starts past capture's stored offset "
                            + lastLsn.getAsLong() + ")";
                    default -> "dropped (or, for a capture shard, never made: its tables were read through another slot)";
                }, config.namespaces().keySet(), lsn);
        publisher.publishAll(Resets.all(config, lsn, clock.millis() * 1000));
        OffsetHistory.forget(config, EngineProperties.serverName(config), KAFKA_TIMEOUT);
        metrics.slotReset();
    }
}
