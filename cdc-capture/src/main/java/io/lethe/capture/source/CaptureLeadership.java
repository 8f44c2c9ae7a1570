package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which capture instance reads the slot: the one holding a PostgreSQL advisory lock named after
 * the slot, on a connection of its own. Any number of instances may run; one captures, the others
 * stand by and try the lock every {@link #POLL}.
 *
 * <p>How fast a standby takes over:
 * <ul>
 *   <li>the leader's process dies (kill -9, OOM, a crash): its host closes its connections, the
 *       backend holding the lock ends at once and the lock is free;</li>
 *   <li>the leader's host or network dies (no one closes the connection): this connection asks the
 *       server for TCP keepalives every {@link #KEEPALIVE_IDLE_SECONDS} s, so the server drops the
 *       dead client after about {@code idle + interval × count} = 5 s;</li>
 *   <li>then the new leader terminates the walsender still holding the slot
 *       ({@code pg_terminate_backend}, allowed for backends of the same role, or with
 *       {@code pg_signal_backend}); where it may not, the slot frees itself after the server's
 *       {@code wal_sender_timeout} (60 s by default), and the engine keeps trying meanwhile.</li>
 * </ul>
 * A leader whose lock connection fails has lost the lock (the server released it): it must stop
 * capturing at once, since a standby may be taking over ({@link #stillHeld}).
 *
 * <p>An advisory lock can be taken by any login to the database, so a standby looks at who holds
 * it ({@link #foreignHolder}): a session of another role, or of Lethe's role under another
 * application name, is reported with its role, application and pid (pg_locks joined with
 * pg_stat_activity, which shows those of every session to every role). A login as Lethe's own role
 * that also names itself lethe-capture-leader cannot be told apart: that is Lethe's credential.
 */
public final class CaptureLeadership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureLeadership.class);
    /** How often a standby tries the lock, and the leader checks it still holds it. */
    public static final Duration POLL = Duration.ofMillis(500);
    static final int KEEPALIVE_IDLE_SECONDS = 2;
    static final int KEEPALIVE_INTERVAL_SECONDS = 1;
    static final int KEEPALIVE_COUNT = 3;
    /** How long the leader's check of its lock connection may take before the lock counts as lost. */
    static final int LOCK_CHECK_TIMEOUT_SECONDS = 1;
    /** The advisory lock's first key: "lethe" in ASCII, the second is hashtext(slot). */
    public static final int LOCK_CLASS = 0x6c657468;

    /** The application name of the lock's session: how a standby tells a Lethe leader from a foreign holder. */
    public static final String APPLICATION_NAME = "lethe-capture-leader";

    private final LetheConfig config;
    private final String slot;
    private Connection connection;
    private final AtomicLong holderChecks = new AtomicLong();

    public CaptureLeadership(LetheConfig config) {
        this.config = config;
        this.slot = config.source().slot();
    }

    /** Tries the lock once; true when this instance now leads (or already did). */
    public synchronized boolean tryAcquire() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = SourceConnection.open(config);
            try (Statement s = connection.createStatement()) {
                s.execute("SET tcp_keepalives_idle = " + KEEPALIVE_IDLE_SECONDS);
                s.execute("SET tcp_keepalives_interval = " + KEEPALIVE_INTERVAL_SECONDS);
                s.execute("SET tcp_keepalives_count = " + KEEPALIVE_COUNT);
                s.execute("SET application_name = '" + APPLICATION_NAME + "'");
            }
        }
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_try_advisory_lock(?, hashtext(?))")) {
            ps.setInt(1, LOCK_CLASS);
            ps.setString(2, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * The session holding the capture lock when it is not a Lethe capture (another role, or Lethe's
     * role under another application name), described by role, application and pid; empty when the
     * lock is free or a Lethe capture holds it.
     */
    public synchronized Optional<String> foreignHolder() throws SQLException {
        holderChecks.incrementAndGet();
        // a two-key advisory lock is classid = key 1, objid = key 2 (as an unsigned oid), objsubid = 2
        try (PreparedStatement ps = connection.prepareStatement("SELECT a.pid, a.usename, a.application_name FROM pg_locks l "
                + "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
                + "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                + "AND l.classid::bigint = ? AND l.objid::bigint = (hashtext(?)::bigint & 4294967295)")) {
            ps.setLong(1, LOCK_CLASS);
            ps.setString(2, slot);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String role = rs.getString(2);
                    String application = rs.getString(3);
                    if (!config.source().user().equals(role) || !APPLICATION_NAME.equals(application)) {
                        return Optional.of("session pid " + rs.getInt(1) + " (role " + role + ", application "
                                + (application == null || application.isEmpty() ? "(none)" : application) + ")");
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** How many times {@link #foreignHolder} looked. */
    public long holderChecks() {
        return holderChecks.get();
    }

    /**
     * Waits until this instance leads, trying every {@link #POLL}; a failed try (the database
     * unreachable) is logged and tried again. While it waits, {@code foreign} is told each time
     * whether a session that is not Lethe's holds the lock ({@link #foreignHolder}).
     */
    public void awaitLeadership(Consumer<Optional<String>> foreign) throws InterruptedException {
        boolean told = false;
        while (true) {
            try {
                if (tryAcquire()) {
                    return;
                }
                foreign.accept(foreignHolder());
                if (!told) {
                    LOG.info("capture standing by: another instance holds the capture lock of slot {}; taking over when it goes", slot);
                    told = true;
                }
            } catch (SQLException e) {
                LOG.warn("capture standby: cannot try the capture lock of slot {} ({}); trying again", slot, e.getMessage());
                closeQuietly();
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /**
     * Terminates the walsender that still holds the slot for a leader that is gone (a dead host's
     * backend lingers until {@code wal_sender_timeout}). Returns how many were terminated; 0 when
     * the slot is free, or when this role may not terminate it (logged: the engine then waits).
     */
    public int evictPreviousWalsender() {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT active_pid, pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL")) {
            ps.setString(1, slot);
            int terminated = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getBoolean(2)) {
                        terminated++;
                        LOG.warn("capture took over slot {}: terminated the previous leader's walsender (pid {})", slot, rs.getInt(1));
                    }
                }
            }
            return terminated;
        } catch (SQLException e) {
            LOG.warn("capture took over slot {}, but may not terminate the walsender still holding it ({}); the slot frees itself "
                    + "after the server's wal_sender_timeout", slot, e.getMessage());
            return 0;
        }
    }

    /** True while this instance's lock connection answers: the lock is still ours. */
    public synchronized boolean stillHeld() {
        try (Statement s = connection.createStatement()) {
            s.setQueryTimeout(LOCK_CHECK_TIMEOUT_SECONDS);
            s.execute("SELECT 1");
            return true;
        } catch (SQLException | RuntimeException e) {
            return false;
        }
    }

    private void closeQuietly() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // already gone
        }
        connection = null;
    }

    /**
     * Releases the lock: at once ({@code pg_advisory_unlock_all()}: the session holds no other
     * advisory lock), so a standby, or a capture started again in this process, takes it without
     * waiting for the server to end the session; closing the connection ends the session, which
     * releases it anyway.
     */
    @Override
    public synchronized void close() {
        try {
            if (connection != null && !connection.isClosed()) {
                try (Statement s = connection.createStatement()) {
                    s.setQueryTimeout(LOCK_CHECK_TIMEOUT_SECONDS);
                    s.execute("SELECT pg_advisory_unlock_all()");
                }
            }
        } catch (SQLException ignored) {
            // the session is gone or hung: closing it below releases the lock
        }
        closeQuietly();
    }
}
