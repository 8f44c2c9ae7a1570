package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import io.lethe.schemas.SourceHistory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares the primary before streaming: the heartbeat table, the publication (created filtered
 * to the configured tables, or extended and its options set back, when the role may), and the
 * slot's state.
 */
public final class SourcePreparer {
    private static final Logger LOG = LoggerFactory.getLogger(SourcePreparer.class);

    /** What capture found of its slot. */
    public enum SlotState {
        /** The slot exists and has the WAL it needs. */
        HEALTHY,
        /** No slot and no offsets: the first start; nothing can have been missed. */
        FIRST_START,
        /** The slot is missing although capture has streamed before: changes may have been missed. */
        MISSING,
        /**
         * The slot exists but starts beyond the last position capture stored: it was made again
         * while capture was away (by an operator, or by a capture that crashed between making it
         * and publishing its reset), and changes between may be lost.
         */
        RECREATED,
        /** The slot exists but PostgreSQL removed WAL it still needed (wal_status = lost). */
        LOST,
        /**
         * The publication was dropped (and perhaps made again) after capture last relied on it:
         * PostgreSQL cannot decode the slot past the drop (every later change fails with
         * "publication does not exist"), so the slot is dropped and made again.
         */
        UNDECODABLE
    }

    private final LetheConfig config;

    public SourcePreparer(LetheConfig config) {
        this.config = config;
    }

    /** The heartbeat table, with the column where capture keeps the source state it relies on ({@link StateStore}). */
    public void ensureHeartbeatTable(Connection c) throws SQLException {
        // CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the table exists: only a missing table
        // asks the role for it, so an administrator can make the table and keep capture's role without CREATE
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, config.source().heartbeatTable());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    StateStore.ensureColumn(c, config);
                    return;
                }
            }
        }
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + config.source().heartbeatTable()
                    + " (slot text PRIMARY KEY, ts timestamptz NOT NULL, " + StateStore.COLUMN + " text, " + StateStore.HISTORY_COLUMN
                    + " text)");
        }
        StateStore.ensureColumn(c, config);
    }

    /** Writes this slot's heartbeat row now: it also marks that capture has streamed from the slot. */
    public void beat(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(heartbeatQuery());
        }
    }

    /**
     * True when capture has streamed from this slot before: its heartbeat row exists. Kept in the
     * database itself, so it survives a crash between clearing offsets and recreating the slot.
     */
    public boolean hasBeaten(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + config.source().heartbeatTable() + " WHERE slot = ?")) {
            ps.setString(1, config.source().slot());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * True when capture streamed from another slot of this source before (another heartbeat row):
     * for a capture shard whose own slot never streamed, the shard is new or tables moved to it,
     * and their changes since whoever read them last stopped are unknown.
     */
    public boolean othersHaveBeaten(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + config.source().heartbeatTable() + " WHERE slot <> ? LIMIT 1")) {
            ps.setString(1, config.source().slot());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * The SQL each heartbeat runs: this slot's row, updated, so the slot sees a change when tables
     * are idle. It writes the source history of the server that commits it (system identifier and
     * timeline, {@link SourceHistory}) in the same statement, so every watermark
     * names the history its LSN belongs to, whatever server the connection reached.
     */
    public String heartbeatQuery() {
        return "INSERT INTO " + config.source().heartbeatTable() + " (slot, ts, " + StateStore.HISTORY_COLUMN + ") VALUES ('"
                + config.source().slot() + "', now(), " + SourceHistory.SQL + ") ON CONFLICT (slot) DO UPDATE SET ts = "
                + "EXCLUDED.ts, " + StateStore.HISTORY_COLUMN + " = EXCLUDED." + StateStore.HISTORY_COLUMN;
    }

    /** The source history of the server {@code c} reaches now ({@link SourceHistory}). */
    public String history(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + SourceHistory.SQL)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The source history this slot's last heartbeat recorded; empty before the first (or before histories were recorded). */
    public Optional<String> lastHistory(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + StateStore.HISTORY_COLUMN + " FROM " + config.source().heartbeatTable()
                + " WHERE slot = ?")) {
            ps.setString(1, config.source().slot());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        }
    }

    /** Records the server's history in this slot's heartbeat row now (after the resets a change of history needs). */
    public void recordHistory(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + config.source().heartbeatTable() + " SET "
                + StateStore.HISTORY_COLUMN + " = " + SourceHistory.SQL + " WHERE slot = ?")) {
            ps.setString(1, config.source().slot());
            ps.executeUpdate();
        }
    }

    /** Drops the slot (it cannot be used any more: see {@link SlotState#UNDECODABLE}). */
    public void dropSlot(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                + "WHERE slot_name = ?")) {
            ps.setString(1, config.source().slot());
            ps.execute();
        }
    }

    /**
     * Creates the publication for the configured tables and the heartbeat table, or adds missing
     * ones. It publishes partitioned tables' changes under the parent's name
     * ({@code publish_via_partition_root}), which is how namespaces name them, and so covers
     * partitions attached later too.
     */
    public void ensurePublication(Connection c) throws SQLException {
        if (!config.source().createPublication()) {
            return;
        }
        String name = config.source().publication();
        Set<String> wanted = new LinkedHashSet<>(config.tables());
        wanted.add(config.source().heartbeatTable());
        boolean exists;
        boolean allTables = false;
        try (PreparedStatement ps = c.prepareStatement("SELECT puballtables FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
                if (exists) {
                    allTables = rs.getBoolean(1);
                }
            }
        }
        try (Statement s = c.createStatement()) {
            if (!exists) {
                s.execute("CREATE PUBLICATION " + ident(name) + " FOR TABLE " + String.join(", ", wanted)
                        + " WITH (publish_via_partition_root = true)");
                LOG.info("created publication {} for {}", name, wanted);
                return;
            }
            if (!publishesEverything(c, name)) {
                s.execute(SourceDrifts.publishFix(name));
                LOG.warn("publication {} left out some operations; it publishes insert, update, delete and truncate again", name);
            }
            if (!PublicationInfo.viaRoot(c, name) && !PublicationInfo.partitioned(c, config.tables()).isEmpty()) {
                s.execute("ALTER PUBLICATION " + ident(name) + " SET (publish_via_partition_root = true)");
                LOG.info("publication {} now publishes partitioned tables under their root's name", name);
            }
            if (allTables) {
                return;
            }
            Set<String> published = new LinkedHashSet<>();
            try (PreparedStatement ps = c
                    .prepareStatement("SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        published.add(rs.getString(1));
                    }
                }
            }
            List<String> missing = new ArrayList<>(wanted);
            missing.removeAll(published);
            if (!missing.isEmpty()) {
                s.execute("ALTER PUBLICATION " + ident(name) + " ADD TABLE " + String.join(", ", missing));
                LOG.info("added {} to publication {}", missing, name);
            }
        }
    }

    private static boolean publishesEverything(Connection c, String publication) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pubinsert AND pubupdate AND pubdelete AND pubtruncate FROM pg_publication "
                + "WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                return !rs.next() || rs.getBoolean(1);
            }
        }
    }

    /**
     * Classifies the slot; drops a slot whose WAL is lost so that a fresh one can be created.
     *
     * @param streamedBefore whether capture has committed offsets for this slot before
     * @param lastLsn        the furthest position capture's stored offsets record, when it has them
     */
    public SlotState inspectSlot(Connection c, boolean streamedBefore, OptionalLong lastLsn) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT wal_status, "
                + "pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, config.source().slot());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return streamedBefore ? SlotState.MISSING : SlotState.FIRST_START;
                }
                if (!"lost".equals(rs.getString(1))) {
                    long confirmed = rs.getLong(2);
                    // a slot confirms only what capture stored first; one beyond that was made afterwards
                    return lastLsn.isPresent() && !rs.wasNull() && confirmed > lastLsn.getAsLong()
                            ? SlotState.RECREATED
                            : SlotState.HEALTHY;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
            ps.setString(1, config.source().slot());
            ps.execute();
        }
        return SlotState.LOST;
    }

    /**
     * Creates the slot now. After a lost slot capture does this itself, before it reads the LSN
     * of its reset, so every change is either after the slot's start (and streamed) or before
     * the reset's LSN (and covered by it); Debezium then streams from the slot's start.
     */
    public void createSlot(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput')")) {
            ps.setString(1, config.source().slot());
            ps.execute();
        }
    }

    /** The primary's current WAL position, as a number. */
    public static long currentLsn(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String ident(String name) {
        return name.matches("[a-z_][a-z0-9_]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
