package io.lethe.capture.source;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Columns, primary key and replica identity of one table (and of its partitions, when
 * partitioned), the tables inheriting from it (as {@code leaves}, when it is a plain table), what decides whether PostgreSQL publishes it at all ({@link Publishable}), and
 * the partitioned tables it is a partition of.
 */
record TableInfo(boolean exists, Set<String> columns, List<String> primaryKey, String replicaIdentity,
        List<String> partitionsWithoutFullIdentity, long oid, String kind, String persistence, List<Publishable.Leaf> leaves,
        List<String> ancestors, Map<String, ColumnType> types) {

    /**
     * A column's type: as PostgreSQL names it (format_type), the typname of it or of its domain's
     * base, its typtype (b, d, e, r, ...), whether it (or the base) is an array, and whether the
     * column is GENERATED (attgenerated: logical replication before PostgreSQL 18 never publishes
     * such a column, and 18 only when the publication asks for it).
     */
    record ColumnType(String name, String baseType, String typtype, boolean array, boolean generated) {
    }

    TableInfo(boolean exists, Set<String> columns, List<String> primaryKey, String replicaIdentity,
            List<String> partitionsWithoutFullIdentity, long oid, String kind, String persistence, List<Publishable.Leaf> leaves,
            List<String> ancestors) {
        this(exists, columns, primaryKey, replicaIdentity, partitionsWithoutFullIdentity, oid, kind, persistence, leaves, ancestors,
                Map.of());
    }

    static TableInfo read(Connection c, String table) throws SQLException {
        String schema = table.substring(0, table.indexOf('.'));
        String name = table.substring(table.indexOf('.') + 1);
        String identity;
        long oid;
        String kind;
        String persistence;
        try (PreparedStatement ps = c.prepareStatement("SELECT c.relreplident::text, c.oid, c.relkind::text, c.relpersistence::text "
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
            ps.setString(1, schema);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new TableInfo(false, Set.of(), List.of(), null, List.of(), 0, null, null, List.of(), List.of());
                }
                identity = rs.getString(1);
                oid = rs.getLong(2);
                kind = rs.getString(3);
                persistence = rs.getString(4);
            }
        }
        if (!"r".equals(kind) && !"p".equals(kind)) {
            return new TableInfo(true, Set.of(), List.of(), identity, List.of(), oid, kind, persistence, List.of(), List.of());
        }
        Set<String> columns = new LinkedHashSet<>();
        // the catalog, not information_schema.columns: that view shows only the columns the role has a privilege on, and
        // capture's least-privilege role has none on the captured tables (it reads them from the WAL, never by SELECT)
        try (PreparedStatement ps = c.prepareStatement("SELECT attname FROM pg_attribute WHERE attrelid = ?::oid AND attnum > 0 "
                + "AND NOT attisdropped ORDER BY attnum")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        }
        Map<String, ColumnType> types = new LinkedHashMap<>();
        try (PreparedStatement ps = c
                .prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod), b.typname, t.typtype::text, "
                        + "b.typcategory = 'A', a.attgenerated <> '' FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                        + "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
                        + "WHERE a.attrelid = ?::oid AND a.attnum > 0 AND NOT a.attisdropped")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    types.put(rs.getString(1), new ColumnType(rs.getString(2), rs.getString(3), rs.getString(4), rs.getBoolean(5),
                            rs.getBoolean(6)));
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
        List<Publishable.Leaf> leaves = new ArrayList<>();
        if ("p".equals(kind) || "r".equals(kind)) {
            // a partitioned table's leaves, or every table inheriting from a plain one (Inheritance)
            try (PreparedStatement ps = c.prepareStatement("p".equals(kind)
                    ? "SELECT n.nspname || '.' || l.relname, l.relkind::text, l.relpersistence::text "
                            + "FROM pg_partition_tree(?::oid) t JOIN pg_class l ON l.oid = t.relid JOIN pg_namespace n ON n.oid = l.relnamespace "
                            + "WHERE t.isleaf ORDER BY 1"
                    : "WITH RECURSIVE inheriting(relid) AS (SELECT inhrelid FROM pg_inherits WHERE inhparent = ?::oid "
                            + "UNION SELECT i.inhrelid FROM pg_inherits i JOIN inheriting h ON i.inhparent = h.relid) "
                            + "SELECT n.nspname || '.' || l.relname, l.relkind::text, l.relpersistence::text "
                            + "FROM inheriting t JOIN pg_class l ON l.oid = t.relid JOIN pg_namespace n ON n.oid = l.relnamespace ORDER BY 1")) {
                ps.setLong(1, oid);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        leaves.add(new Publishable.Leaf(rs.getString(1), rs.getString(2), rs.getString(3)));
                    }
                }
            }
        }
        List<String> ancestors = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname || '.' || a.relname FROM pg_partition_ancestors(?::oid) t "
                + "JOIN pg_class a ON a.oid = t.relid JOIN pg_namespace n ON n.oid = a.relnamespace WHERE t.relid <> ?::oid")) {
            ps.setLong(1, oid);
            ps.setLong(2, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ancestors.add(rs.getString(1));
                }
            }
        }
        return new TableInfo(true, columns, pk, identity, PublicationInfo.partitionsWithoutFullIdentity(c, table), oid, kind, persistence,
                leaves, ancestors, types);
    }
}
