package io.lethe.region.gate;

import io.lethe.config.ApplyConfig;
import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows how far the region's read replica has replayed: one {@code pg_last_wal_replay_lsn()}
 * query per poll interval, whatever the number of invalidations waiting. The region consumer
 * re-applies a batch once the replica has replayed past the batch's highest LSN, so a reader
 * that refilled from the lagging replica cannot keep the old value for longer than the
 * replica's lag.
 */
public final class ReplicaGate implements ReplayPosition, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaGate.class);
    /** Highest LSN the replica has replayed, as seen at the last poll. */
    public static final String REPLAYED = "lethe.region.replica.replayed.lsn";
    /** WAL between the newest invalidation and the replica's replay position, bytes. */
    public static final String LAG_BYTES = "lethe.region.replica.lag.bytes";

    private final RegionConfig region;
    private final Properties props = new Properties();
    private final AtomicLong replayed = new AtomicLong(-1);
    private final AtomicLong newest = new AtomicLong();
    private final ScheduledExecutorService poller;
    private Connection connection;

    public ReplicaGate(LetheConfig config, RegionConfig region, ApplyConfig apply, MeterRegistry registry) {
        this.region = region;
        props.setProperty("user", region.replicaUser() != null ? region.replicaUser() : config.source().user());
        var password = region.replicaPassword() != null ? region.replicaPassword() : config.source().password();
        if (password != null) {
            props.setProperty("password", password.reveal());
        }
        props.setProperty("connectTimeout", "5");
        props.setProperty("socketTimeout", "10");
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

    private void poll() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = DriverManager.getConnection(region.replicaJdbcUrl(), props);
            }
            try (Statement s = connection.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(COALESCE(pg_last_wal_replay_lsn(), pg_current_wal_lsn()), '0/0')::bigint")) {
                rs.next();
                replayed.set(rs.getLong(1));
            }
        } catch (SQLException e) {
            LOG.warn("region {}: cannot read the replica's replay position ({}); re-applications wait", region.name(), e.getMessage());
            close(connection);
            connection = null;
        }
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
    }
}
