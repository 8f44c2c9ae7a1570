package io.lethe.capture.source;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the source while capture streams: the WAL the slot retains (every 5 s) and the table
 * checks (every minute: a REPLICA IDENTITY or a column changed after start-up makes streams
 * invalidate wider than needed, which fails closed; this says why).
 */
public final class SlotMonitor implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SlotMonitor.class);

    private final LetheConfig config;
    private final CaptureMetrics metrics;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lethe-capture-slot-monitor");
        t.setDaemon(true);
        return t;
    });

    public SlotMonitor(LetheConfig config, CaptureMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
    }

    public void start() {
        scheduler.scheduleWithFixedDelay(this::measureSlot, 0, 5, TimeUnit.SECONDS);
        scheduler.scheduleWithFixedDelay(this::checkDrift, 60, 60, TimeUnit.SECONDS);
    }

    /** True when the slot is held by a walsender (capture streams from it). */
    public boolean slotActive() {
        try (Connection c = SourceConnection.open(config);
                PreparedStatement ps = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, config.source().slot());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            return false;
        }
    }

    private void checkDrift() {
        try (Connection c = SourceConnection.open(config)) {
            List<CheckResult> failing = new TableChecks(config).tables(c).stream()
                    .filter(r -> r.status() == CheckResult.Status.FAIL).toList();
            metrics.drift(failing.size());
            failing.forEach(r -> LOG.error("the source changed since capture started (changes are invalidated wider until it is "
                    + "fixed): {}", r));
        } catch (SQLException e) {
            LOG.debug("cannot re-check the tables: {}", e.toString());
        }
    }

    private void measureSlot() {
        try (Connection c = SourceConnection.open(config);
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

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
