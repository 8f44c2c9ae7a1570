package io.lethe.capture.checks;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

    /** Columns, primary key and replica identity of one table (and of its partitions, when partitioned). */
record TableInfo(boolean exists, Set<String> columns, List<String> primaryKey, String replicaIdentity,
                 List<String> partitionsWithoutFullIdentity) {
    static TableInfo read(Connection c, String table) throws SQLException {
        String schema = table.substring(0, table.indexOf('.'));
        String name = table.substring(table.indexOf('.') + 1);
        String identity;
        try (PreparedStatement ps = c.prepareStatement("SELECT c.relreplident::text FROM pg_class c JOIN pg_namespace n "
                + "ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ? AND c.relkind IN ('r', 'p')")) {
            ps.setString(1, schema);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new TableInfo(false, Set.of(), List.of(), null, List.of());
                }
                identity = rs.getString(1);
            }
        }
        Set<String> columns = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT column_name FROM information_schema.columns "
                + "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position")) {
            ps.setString(1, schema);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        }
        List<String> pk = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey) "
                + "WHERE i.indisprimary AND n.nspname = ? AND c.relname = ? ORDER BY array_position(i.indkey::int2[], a.attnum)")) {
            ps.setString(1, schema);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    pk.add(rs.getString(1));
                }
            }
        }
        return new TableInfo(true, columns, pk, identity, io.lethe.capture.slot.PublicationInfo.partitionsWithoutFullIdentity(c, table));
    }
}
