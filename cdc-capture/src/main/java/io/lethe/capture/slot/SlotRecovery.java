package io.lethe.capture.slot;

import io.lethe.capture.checks.CaptureStartupException;
import io.lethe.capture.checks.CheckResult;
import io.lethe.capture.checks.DatabaseChecks;
import io.lethe.capture.engine.EngineProperties;
import io.lethe.capture.mapping.Resets;
import io.lethe.capture.metrics.CaptureMetrics;
import io.lethe.capture.publish.ChangePublisher;
import io.lethe.capture.slot.SourcePreparer.SlotState;
import io.lethe.config.JdbcUrls;
import io.lethe.config.LetheConfig;
import io.lethe.config.kafka.TopicSetup;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What capture does before it streams: the start-up checks (refusing to start with every failed
 * check and its fix), the heartbeat table and publication, and the slot. A slot that is missing,
 * lost, or made again while capture was away means changes may be lost: every namespace is reset
 * at the current LSN before streaming again.
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

    /**
     * Checks and prepares the primary, and resets every namespace when the slot cannot be trusted.
     *
     * @return the preparer, for the heartbeat the engine runs
     * @throws CaptureStartupException listing every failed check with its fix
     */
    public SourcePreparer prepare(ChangePublisher publisher) throws InterruptedException {
        SourcePreparer preparer = new SourcePreparer(config);
        try (Connection c = SourceConnection.open(config)) {
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
            SlotState slot = preparer.inspectSlot(c, streamedBefore, lastLsn);
            if (slot == SlotState.MISSING || slot == SlotState.LOST || slot == SlotState.RECREATED) {
                reset(c, preparer, publisher, slot, lastLsn);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare capture on " + JdbcUrls.forDisplay(config.source().jdbcUrl())
                    + ": " + e.getMessage(), e);
        }
        return preparer;
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
                    case RECREATED -> "made again while capture was away (it starts past capture's stored offset "
                            + lastLsn.getAsLong() + ")";
                    default -> "dropped";
                }, config.namespaces().keySet(), lsn);
        publisher.publishAll(Resets.all(config, lsn, clock.millis() * 1000));
        OffsetHistory.forget(config, EngineProperties.serverName(config), KAFKA_TIMEOUT);
        metrics.slotReset();
    }
}
