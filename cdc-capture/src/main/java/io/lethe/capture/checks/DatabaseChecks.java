package io.lethe.capture.checks;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a PostgreSQL primary must offer before capture can start, each check with the exact fix:
 * wal_level, the role's REPLICATION attribute, configured tables and columns, primary keys,
 * REPLICA IDENTITY for non-key template columns, the publication, the slot (free, not lost),
 * free slots and WAL senders, and max_slot_wal_keep_size (a warning).
 */
public final class DatabaseChecks {
    private final LetheConfig config;

    public DatabaseChecks(LetheConfig config) {
        this.config = config;
    }

    /** Runs every check; never throws for a failed check, only for a lost connection. */
    public List<CheckResult> run(Connection c) throws SQLException {
        List<CheckResult> results = new ArrayList<>();
        results.add(walLevel(c));
        results.add(replicationRole(c));
        Map<String, TableInfo> tables = new LinkedHashMap<>();
        for (String table : config.tables()) {
            TableInfo info = TableInfo.read(c, table);
            tables.put(table, info);
            results.addAll(tableChecks(table, info));
        }
        results.add(publication(c, tables));
        results.add(slot(c));
        results.add(capacity(c));
        results.add(walKeepSize(c));
        return results;
    }

    /**
     * The checks of the configured tables only (columns, primary key, REPLICA IDENTITY of the
     * table and its partitions): what can drift while capture runs, so it re-runs them periodically.
     */
    public List<CheckResult> tables(Connection c) throws SQLException {
        List<CheckResult> results = new ArrayList<>();
        for (String table : config.tables()) {
            results.addAll(tableChecks(table, TableInfo.read(c, table)));
        }
        return results;
    }

    private CheckResult walLevel(Connection c) throws SQLException {
        String level = single(c, "SHOW wal_level");
        if ("logical".equals(level)) {
            return CheckResult.pass("wal_level", "wal_level is logical");
        }
        return CheckResult.fail("wal_level", "wal_level is " + level + "; logical decoding needs logical",
                "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL");
    }

    private CheckResult replicationRole(Connection c) throws SQLException {
        String user = config.source().user();
        try (PreparedStatement ps = c.prepareStatement("SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, user);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return CheckResult.fail("replication role", "role " + user + " does not exist",
                            "CREATE ROLE " + quoteIdent(user) + " LOGIN REPLICATION PASSWORD '...';");
                }
                if (rs.getBoolean(1) || rs.getBoolean(2)) {
                    return CheckResult.pass("replication role", "role " + user + " may replicate");
                }
            }
        }
        return CheckResult.fail("replication role", "role " + user + " lacks the REPLICATION attribute",
                "ALTER ROLE " + quoteIdent(user) + " REPLICATION;");
    }

    private List<CheckResult> tableChecks(String table, TableInfo info) {
        List<CheckResult> results = new ArrayList<>();
        String check = "table " + table;
        if (!info.exists()) {
            results.add(CheckResult.fail(check, "table " + table + " does not exist in database " + config.source().database(),
                    "create it, or fix " + config.namespacesForTable(table).stream().map(n -> "namespaces." + n.name() + ".table")
                            .collect(java.util.stream.Collectors.joining(", ")) + " in " + config.file()));
            return results;
        }
        List<String> problems = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        boolean needsFullIdentity = false;
        for (NamespaceConfig ns : config.namespacesForTable(table)) {
            Set<String> missing = new LinkedHashSet<>(ns.requiredColumns());
            missing.removeAll(info.columns());
            if (!missing.isEmpty()) {
                problems.add("namespace " + ns.name() + " needs column(s) " + missing + " that " + table + " does not have");
                fixes.add("fix the key templates, payload-columns or version of namespaces." + ns.name() + " in " + config.file());
            }
            if (!info.primaryKey().isEmpty() && !Set.copyOf(ns.primaryKey()).equals(Set.copyOf(info.primaryKey()))) {
                problems.add("namespace " + ns.name() + " declares primary-key " + ns.primaryKey() + " but the table's is " + info.primaryKey());
                fixes.add("set namespaces." + ns.name() + ".primary-key: " + info.primaryKey() + " in " + config.file());
            }
            if (!ns.nonKeyTemplateColumns().isEmpty() && !"f".equals(info.replicaIdentity())) {
                needsFullIdentity = true;
                problems.add("namespace " + ns.name() + " keys use non-key column(s) " + ns.nonKeyTemplateColumns()
                        + ", so updates must carry the old row to invalidate the old key, but REPLICA IDENTITY is "
                        + identityName(info.replicaIdentity()));
            }
            if (!ns.nonKeyTemplateColumns().isEmpty() && !info.partitionsWithoutFullIdentity().isEmpty()) {
                problems.add("namespace " + ns.name() + " keys use non-key column(s) " + ns.nonKeyTemplateColumns()
                        + ", but partition(s) " + info.partitionsWithoutFullIdentity() + " of " + table
                        + " do not have REPLICA IDENTITY FULL (each partition logs its own old rows)");
                info.partitionsWithoutFullIdentity().forEach(part -> fixes.add("ALTER TABLE " + part + " REPLICA IDENTITY FULL;"));
            }
        }
        if (info.primaryKey().isEmpty()) {
            problems.add(table + " has no primary key; Lethe keys changes and row-scoped entries by it");
            fixes.add("ALTER TABLE " + table + " ADD PRIMARY KEY (...);");
        }
        if (needsFullIdentity) {
            fixes.add("ALTER TABLE " + table + " REPLICA IDENTITY FULL;");
        }
        if (problems.isEmpty()) {
            results.add(CheckResult.pass(check, table + " has every column Lethe needs (replica identity "
                    + identityName(info.replicaIdentity()) + ")"));
        } else {
            results.add(CheckResult.fail(check, String.join("; ", problems), String.join("  ", fixes)));
        }
        return results;
    }

    private static String identityName(String code) {
        return switch (code == null ? "" : code) {
            case "d" -> "DEFAULT (primary key)";
            case "f" -> "FULL";
            case "i" -> "USING INDEX";
            case "n" -> "NOTHING";
            default -> "unknown";
        };
    }

    private CheckResult publication(Connection c, Map<String, TableInfo> tables) throws SQLException {
        String name = config.source().publication();
        List<String> wanted = new ArrayList<>(config.tables());
        wanted.add(config.source().heartbeatTable());
        Set<String> published = new LinkedHashSet<>();
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
        List<String> partitioned = io.lethe.capture.slot.PublicationInfo.partitioned(c, config.tables());
        if (exists && !partitioned.isEmpty() && !io.lethe.capture.slot.PublicationInfo.viaRoot(c, name)) {
            // without it, PostgreSQL logs the partitions' changes under the partitions' names, which no namespace has
            if (!(config.source().createPublication() && canManagePublication(c))) {
                return CheckResult.fail("publication", "publication " + name + " publishes the changes of partitioned table(s) "
                        + partitioned + " under their partitions' names, which no namespace captures",
                        "ALTER PUBLICATION " + quoteIdent(name) + " SET (publish_via_partition_root = true);");
            }
        }
        if (exists) {
            try (PreparedStatement ps = c.prepareStatement("SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        published.add(rs.getString(1));
                    }
                }
            }
            boolean coversAll = allTables;
            List<String> missing = wanted.stream().filter(t -> !published.contains(t) && !coversAll).toList();
            List<String> existingMissing = missing.stream().filter(t -> !tables.containsKey(t) || tables.get(t).exists()).toList();
            if (existingMissing.isEmpty()) {
                return CheckResult.pass("publication", "publication " + name + " covers every configured table");
            }
            if (config.source().createPublication() && canManagePublication(c)) {
                return CheckResult.pass("publication", "publication " + name + " lacks " + existingMissing + "; capture will add them");
            }
            return CheckResult.fail("publication", "publication " + name + " lacks " + existingMissing,
                    "ALTER PUBLICATION " + quoteIdent(name) + " ADD TABLE " + String.join(", ", existingMissing) + ";");
        }
        if (config.source().createPublication() && canManagePublication(c)) {
            return CheckResult.pass("publication", "publication " + name + " does not exist yet; capture will create it for " + wanted);
        }
        return CheckResult.fail("publication", "publication " + name + " does not exist and role " + config.source().user()
                        + (config.source().createPublication() ? " may not create it" : " is not allowed to (create-publication: false)"),
                "CREATE PUBLICATION " + quoteIdent(name) + " FOR TABLE " + String.join(", ", wanted)
                        + " WITH (publish_via_partition_root = true);");
    }

    /** Superusers may; otherwise the role needs CREATE on the database and to own the tables. */
    private boolean canManagePublication(Connection c) throws SQLException {
        return "on".equals(single(c, "SHOW is_superuser"))
                || "t".equals(single(c, "SELECT has_database_privilege(current_database(), 'CREATE')::text"))
                && "t".equals(single(c, "SELECT bool_and(pg_has_role(c.relowner, 'USAGE'))::text FROM pg_class c "
                        + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname || '.' || c.relname IN ("
                        + String.join(",", config.tables().stream().map(t -> "'" + t.replace("'", "''") + "'").toList()) + ")"));
    }

    private CheckResult slot(Connection c) throws SQLException {
        String slot = config.source().slot();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT active, active_pid, wal_status, database, plugin FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return CheckResult.pass("slot", "slot " + slot + " does not exist yet; capture will create it");
                }
                if (!config.source().database().equals(rs.getString("database")) || !"pgoutput".equals(rs.getString("plugin"))) {
                    return CheckResult.fail("slot", "slot " + slot + " belongs to database " + rs.getString("database")
                                    + " with plugin " + rs.getString("plugin") + ", not " + config.source().database() + " with pgoutput",
                            "choose another source.slot in " + config.file() + ", or SELECT pg_drop_replication_slot('" + slot + "');");
                }
                if (rs.getBoolean("active")) {
                    int pid = rs.getInt("active_pid");
                    return CheckResult.fail("slot", "slot " + slot + " is in use by another reader (pid " + pid + ")",
                            "stop the other capture instance; if it is stale: SELECT pg_terminate_backend(" + pid + ");");
                }
                if ("lost".equals(rs.getString("wal_status"))) {
                    return CheckResult.warn("slot", "slot " + slot + " has lost WAL it needed; capture will recreate it and "
                                    + "invalidate every namespace (changes may have been missed)",
                            "raise max_slot_wal_keep_size, and alert on lethe.capture.slot.retained.bytes");
                }
                return CheckResult.pass("slot", "slot " + slot + " exists and is free (wal_status " + rs.getString("wal_status") + ")");
            }
        }
    }

    private CheckResult capacity(Connection c) throws SQLException {
        int maxSlots = Integer.parseInt(single(c, "SHOW max_replication_slots"));
        int usedSlots = Integer.parseInt(single(c, "SELECT count(*) FROM pg_replication_slots"));
        int maxSenders = Integer.parseInt(single(c, "SHOW max_wal_senders"));
        int usedSenders = Integer.parseInt(single(c, "SELECT count(*) FROM pg_stat_replication"));
        boolean haveSlot = "1".equals(single(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '"
                + config.source().slot().replace("'", "''") + "'"));
        if (!haveSlot && usedSlots >= maxSlots) {
            return CheckResult.fail("replication capacity", "all " + maxSlots + " replication slots are in use",
                    "ALTER SYSTEM SET max_replication_slots = " + (maxSlots + 4) + "; then restart PostgreSQL (or drop an unused slot)");
        }
        if (usedSenders >= maxSenders) {
            return CheckResult.fail("replication capacity", "all " + maxSenders + " WAL senders are in use",
                    "ALTER SYSTEM SET max_wal_senders = " + (maxSenders + 4) + "; then restart PostgreSQL");
        }
        return CheckResult.pass("replication capacity", usedSlots + "/" + maxSlots + " slots and " + usedSenders + "/"
                + maxSenders + " WAL senders in use");
    }

    private CheckResult walKeepSize(Connection c) throws SQLException {
        String size = single(c, "SHOW max_slot_wal_keep_size");
        if ("-1".equals(size)) {
            return CheckResult.warn("max_slot_wal_keep_size", "max_slot_wal_keep_size is unlimited: if capture stops, "
                            + "the slot keeps WAL until the disk is full",
                    "ALTER SYSTEM SET max_slot_wal_keep_size = '10GB'; SELECT pg_reload_conf();");
        }
        return CheckResult.pass("max_slot_wal_keep_size", "max_slot_wal_keep_size is " + size);
    }

    static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static String quoteIdent(String name) {
        return name.matches("[a-z_][a-z0-9_]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }

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
}
