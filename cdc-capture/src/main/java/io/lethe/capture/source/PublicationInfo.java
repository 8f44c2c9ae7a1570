package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** What the start-up checks and the preparer both need to know about partitioned tables and the publication. */
final class PublicationInfo {
    private PublicationInfo() {
    }

    /** True when the publication exists and publishes partitions' changes under their root table's name. */
    public static boolean viaRoot(Connection c, String publication) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pubviaroot FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * True when the role may create and change the publication: a superuser may; otherwise the
     * role needs CREATE on the database and to own the configured tables.
     */
    public static boolean canManage(Connection c, LetheConfig config) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT current_setting('is_superuser') = 'on' OR has_database_privilege(current_database(), 'CREATE') "
                                + "AND coalesce((SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c JOIN pg_namespace n "
                                + "ON n.oid = c.relnamespace WHERE n.nspname || '.' || c.relname = ANY (ARRAY[" + String.join(",",
                                        config.tables().stream().map(t -> "'" + t.replace("'", "''") + "'").toList())
                                + "]::text[])), false)")) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** Those of {@code tables} ({@code schema.table}) that are declared {@code PARTITION BY}. */
    public static List<String> partitioned(Connection c, Collection<String> tables) throws SQLException {
        List<String> out = new ArrayList<>();
        for (String table : tables) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    + "WHERE n.nspname = ? AND c.relname = ? AND c.relkind = 'p'")) {
                ps.setString(1, table.substring(0, table.indexOf('.')));
                ps.setString(2, table.substring(table.indexOf('.') + 1));
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        out.add(table);
                    }
                }
            }
        }
        return out;
    }

    /**
     * The leaf partitions of a partitioned table whose REPLICA IDENTITY is not FULL, as
     * {@code schema.partition}; empty for a plain table. Each partition logs its own old rows.
     */
    public static List<String> partitionsWithoutFullIdentity(Connection c, String table) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname || '.' || c.relname FROM pg_partition_tree(?::regclass) t "
                + "JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE t.isleaf AND c.relreplident <> 'f' ORDER BY 1")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }
}
