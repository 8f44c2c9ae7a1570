package io.lethe.capture.source;

import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.SourceHistory;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Where capture keeps the source state it relies on: column {@value #COLUMN} of its slot's
 * heartbeat row, in the source database itself. It outlives capture, so a capture that starts
 * after the source drifted while it was down compares with what its predecessor relied on (and a
 * restore of the database brings back the state that matches it). Written only after the resets
 * a drift needs were acknowledged, so a crash in between compares with the old state again.
 */
final class StateStore {
    /** The heartbeat table's column holding the state. */
    public static final String COLUMN = "source_state";
    /**
     * The heartbeat table's column where each heartbeat writes the source history of the server
     * that commits it ({@link SourceHistory}): the watermark's history.
     */
    public static final String HISTORY_COLUMN = ChangeEventMapper.HISTORY_FIELD;

    private StateStore() {
    }

    /** Adds the column to a heartbeat table made before it existed (the role owns the table: see the start-up checks). */
    public static void ensureColumn(Connection c, LetheConfig config) throws SQLException {
        if (!hasColumn(c, config)) {
            try (Statement s = c.createStatement()) {
                s.execute(addColumnSql(config));
            }
        }
    }

    /** The SQL that adds the column. */
    public static String addColumnSql(LetheConfig config) {
        return "ALTER TABLE " + config.source().heartbeatTable() + " ADD COLUMN IF NOT EXISTS " + COLUMN
                + " text, ADD COLUMN IF NOT EXISTS "
                + HISTORY_COLUMN + " text;";
    }

    /** True when the heartbeat table exists and has the columns ({@value #COLUMN} and {@value #HISTORY_COLUMN}). */
    public static boolean hasColumn(Connection c, LetheConfig config) throws SQLException {
        return columns(c, config).size() == 2;
    }

    /** Which of {@value #COLUMN} and {@value #HISTORY_COLUMN} the heartbeat table has. */
    private static Set<String> columns(Connection c, LetheConfig config) throws SQLException {
        String table = config.source().heartbeatTable();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid "
                + "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = ? AND t.relname = ? AND a.attname IN (?, ?) AND NOT a.attisdropped")) {
            ps.setString(1, table.substring(0, table.indexOf('.')));
            ps.setString(2, table.substring(table.indexOf('.') + 1));
            ps.setString(3, COLUMN);
            ps.setString(4, HISTORY_COLUMN);
            try (ResultSet rs = ps.executeQuery()) {
                Set<String> found = new HashSet<>();
                while (rs.next()) {
                    found.add(rs.getString(1));
                }
                return found;
            }
        }
    }

    /** The state the slot's capture last relied on; empty when none was stored (or there is no column yet). */
    public static Optional<SourceState> load(Connection c, LetheConfig config) throws SQLException {
        if (!columns(c, config).contains(COLUMN)) {
            return Optional.empty();
        }
        try (PreparedStatement ps = c
                .prepareStatement("SELECT " + COLUMN + " FROM " + config.source().heartbeatTable() + " WHERE slot = ?")) {
            ps.setString(1, config.source().slot());
            try (ResultSet rs = ps.executeQuery()) {
                String json = rs.next() ? rs.getString(1) : null;
                if (json == null) {
                    return Optional.empty();
                }
                try {
                    return Optional.of(SourceState.fromJson(json));
                } catch (IllegalArgumentException e) {
                    return Optional.empty(); // unreadable: as if none was stored (capture then resets: fail closed)
                }
            }
        }
    }

    /**
     * Stores {@code state} in the slot's heartbeat row.
     *
     * @return false when the row does not exist yet (capture has not streamed: it is stored after the first heartbeat)
     */
    public static boolean save(Connection c, LetheConfig config, SourceState state) throws SQLException {
        try (PreparedStatement ps = c
                .prepareStatement("UPDATE " + config.source().heartbeatTable() + " SET " + COLUMN + " = ? WHERE slot = ?")) {
            ps.setString(1, state.toJson());
            ps.setString(2, config.source().slot());
            return ps.executeUpdate() == 1;
        }
    }
}
