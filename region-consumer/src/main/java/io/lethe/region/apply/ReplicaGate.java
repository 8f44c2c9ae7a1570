package io.lethe.region.apply;

import io.lethe.config.ApplyConfig;
import io.lethe.config.JdbcUrls;
import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows how far the region's read replica has replayed: one {@code pg_last_wal_replay_lsn()}
 * query per poll interval, whatever the number of invalidations waiting. The region consumer
 * re-applies a batch once the replica has replayed past the batch's highest LSN, so a reader
 * that refilled from the lagging replica cannot keep the old value for longer than the
 * replica's lag.
 *
 * <p>Only a standby of this primary says anything of that: each poll also reads the primary's
 * system identifier and current WAL position, and the replica's {@code pg_is_in_recovery()} and
 * system identifier. A server that is not in recovery (a promoted or unrelated server: its own
 * WAL position is not a replay position) or that belongs to another cluster is refused: nothing
 * is released, {@code lethe.region.replica.refused} is 1 and the log says why and what to fix. Batches stay held
 * (fetching pauses when too many wait) and the region's lag grows: slower, never staler.
 */
final class ReplicaGate implements ReplayPosition, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaGate.class);
    /** Highest LSN the replica has replayed, as seen at the last poll. */
    public static final String REPLAYED = "lethe.region.replica.replayed.lsn";
    /** WAL between the newest invalidation and the replica's replay position, bytes. */
    public static final String LAG_BYTES = "lethe.region.replica.lag.bytes";
    private static final String PRIMARY_SQL = "SELECT (SELECT system_identifier FROM pg_control_system())::text, "
            + "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint";
    private static final String REPLICA_SQL = "SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system())::text, "
            + "pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint";

    private final RegionConfig region;
    private final String primaryUrl;
    private final Properties props = new Properties();
    private final Properties primaryProps = new Properties();
    private final AtomicLong replayed = new AtomicLong(-1);
    private final AtomicLong newest = new AtomicLong();
    private final Consumer<Boolean> refused;
    /** The primary's WAL position at the last successful poll, and when (nanoTime) that poll began. */
    private volatile long primaryLsn = -1;
    private volatile long primaryReadAt = Long.MIN_VALUE;
    private final ScheduledExecutorService poller;
    private Connection connection;
    private Connection primary;
    private volatile String lastRefusal;

    /** @param refused told, each poll that checked the replica, whether it is refused (the region's metric) */
    public ReplicaGate(LetheConfig config, RegionConfig region, ApplyConfig apply, MeterRegistry registry,
            Consumer<Boolean> refused) {
        this.region = region;
        this.refused = refused;
        props.setProperty("user", region.replicaUser() != null ? region.replicaUser() : config.source().reader());
        var password = region.replicaPassword() != null ? region.replicaPassword() : config.source().readerSecret();
        if (password != null) {
            props.setProperty("password", password.reveal());
        }
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "10");
        this.primaryUrl = config.source().jdbcUrl();
        // only reads positions: the reader role, not capture's (source.reader-user)
        primaryProps.setProperty("user", config.source().reader());
        if (config.source().readerSecret() != null) {
            primaryProps.setProperty("password", config.source().readerSecret().reveal());
        }
        primaryProps.setProperty("connectTimeout", "5");
        primaryProps.setProperty("socketTimeout", "10");
        primaryProps.setProperty("ApplicationName", "lethe-replica-gate-" + region.name());
        Gauge.builder(REPLAYED, replayed, AtomicLong::get).tag("region", region.name()).register(registry);
        Gauge.builder(LAG_BYTES, this, g -> Math.max(0, g.newest.get() - Math.max(0, g.replayed.get())))
                .baseUnit("bytes").tag("region", region.name()).register(registry);
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lethe-replica-gate-" + region.name());
            t.setDaemon(true);
            return t;
        });
        long every = apply.replicaPollInterval().toMillis();
        poller.scheduleWithFixedDelay(this::poll, 0, every, TimeUnit.MILLISECONDS);
    }

    /** The replica's replay LSN at the last successful poll, or -1 before the first. */
    @Override
    public long replayed() {
        return replayed.get();
    }

    /** Notes the highest LSN applied, for the lag gauge. */
    @Override
    public void applied(long lsn) {
        newest.accumulateAndGet(lsn, Math::max);
    }

    /** Why the configured replica is refused now (not a standby of the primary), if it is. */
    public Optional<String> refusal() {
        return Optional.ofNullable(lastRefusal);
    }

    @Override
    public long primaryAfter(long sinceNanos) {
        long at = primaryReadAt;
        return at != Long.MIN_VALUE && at - sinceNanos >= 0 ? primaryLsn : -1;
    }

    private void poll() {
        long started = System.nanoTime();
        String primarySystem;
        try {
            if (primary == null || primary.isClosed()) {
                primary = DriverManager.getConnection(primaryUrl, primaryProps);
            }
            try (Statement s = primary.createStatement(); ResultSet rs = s.executeQuery(PRIMARY_SQL)) {
                rs.next();
                primarySystem = rs.getString(1);
                primaryLsn = rs.getLong(2);
                primaryReadAt = started;
            }
        } catch (SQLException e) {
            LOG.warn("region {}: cannot read the primary's system identifier and WAL position ({}); the replica cannot be "
                    + "checked and re-applications wait", region.name(), e.getMessage());
            close(primary);
            primary = null;
            return;
        }
        try {
            if (connection == null || connection.isClosed()) {
                connection = DriverManager.getConnection(region.replicaJdbcUrl(), props);
            }
            try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(REPLICA_SQL)) {
                rs.next();
                boolean inRecovery = rs.getBoolean(1);
                String system = rs.getString(2);
                long lsn = rs.getLong(3);
                boolean noReplay = rs.wasNull();
                String refusal = refusal(inRecovery, system, primarySystem);
                if (refusal != null) {
                    refuse(refusal);
                } else if (!noReplay) {
                    accept();
                    replayed.set(lsn);
                }
            }
        } catch (SQLException e) {
            LOG.warn("region {}: cannot read the replica's replay position ({}); re-applications wait", region.name(), e.getMessage());
            close(connection);
            connection = null;
        }
    }

    /** Why a server is not a replica the gate can follow, or null when it is a standby of the primary. */
    static String refusal(boolean inRecovery, String system, String primarySystem) {
        if (!inRecovery) {
            return "it is not a standby (pg_is_in_recovery() is false): its own WAL position says nothing of what a read "
                    + "replica replayed";
        }
        if (!system.equals(primarySystem)) {
            return "it is a standby of another cluster (system identifier " + system + "; the primary's is " + primarySystem + ")";
        }
        return null;
    }

    private void refuse(String why) {
        replayed.set(-1);
        refused.accept(true);
        if (!why.equals(lastRefusal)) {
            lastRefusal = why;
            LOG.error("region {}: replica {} refused: {}. Invalidations stay held for it (the region's lag grows) until "
                    + "regions.{}.replica names a standby of the primary {}", region.name(),
                    JdbcUrls.forDisplay(
                            region.replicaJdbcUrl()),
                    why, region.name(), JdbcUrls.forDisplay(primaryUrl));
        }
    }

    private void accept() {
        if (lastRefusal != null) {
            LOG.info("region {}: replica {} is a standby of the primary again; held invalidations are released as it replays",
                    region.name(), JdbcUrls.forDisplay(region.replicaJdbcUrl()));
            lastRefusal = null;
        }
        refused.accept(false);
    }

    private static void close(Connection c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (SQLException ignored) {
            // already broken
        }
    }

    @Override
    public void close() {
        poller.shutdownNow();
        close(connection);
        close(primary);
    }
}
