package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import io.lethe.schemas.SourceHistory;
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
import java.util.stream.Collectors;

/**
 * What a PostgreSQL primary must offer before capture can start, each check with the exact fix:
 * wal_level, the role's REPLICATION attribute, configured tables and columns, primary keys,
 * REPLICA IDENTITY for non-key template columns, the publication, the slot (free, not lost),
 * free slots and WAL senders, and max_slot_wal_keep_size (a warning) ({@link SlotChecks}); in
 * {@code source.mode: debezium-topics}, what it can see of the connector ({@link ConnectorChecks}).
 */
public final class DatabaseChecks {
    private final LetheConfig config;
    /** Where the database runs: the fixes name that service's way of doing it. */
    private ManagedPostgres platform = ManagedPostgres.SELF_MANAGED;

    public DatabaseChecks(LetheConfig config) {
        this.config = config;
    }

    /** Runs every check; never throws for a failed check, only for a lost connection. */
    public List<CheckResult> run(Connection c) throws SQLException {
        platform = ManagedPostgres.detect(c);
        if (config.source().readsDebeziumTopics()) {
            return new ConnectorChecks(config).run(c, walLevel(c));
        }
        List<CheckResult> results = new ArrayList<>();
        results.add(walLevel(c));
        results.add(replicationRole(c));
        results.add(sourceHistory(c));
        Map<String, TableInfo> tables = new LinkedHashMap<>();
        TableChecks tableChecks = new TableChecks(config);
        for (String table : config.tables()) {
            TableInfo info = TableInfo.read(c, table);
            tables.put(table, info);
            results.addAll(tableChecks.check(table, info));
        }
        results.add(publication(c, tables));
        SourceState now = SourceState.read(c, config);
        results.add(publicationOptions(c, now));
        results.add(heartbeatTable(c));
        results.add(reliedOn(c, now));
        SlotChecks slotChecks = new SlotChecks(config, platform);
        results.add(slotChecks.slot(c));
        results.add(slotChecks.capacity(c));
        results.add(slotChecks.walKeepSize(c));
        return results;
    }

    private CheckResult walLevel(Connection c) throws SQLException {
        String level = single(c, "SHOW wal_level");
        if ("logical".equals(level)) {
            return CheckResult.pass("wal_level", "wal_level is logical");
        }
        return CheckResult.fail("wal_level", "wal_level is " + level + "; logical decoding needs logical"
                + (platform == ManagedPostgres.SELF_MANAGED ? "" : " (" + platform.display() + ")"),
                platform.parameterFix("wal_level", "logical", true));
    }

    /**
     * Every heartbeat records the source's history (system identifier and timeline): the function
     * that reads the system identifier is executable by every role unless an administrator revoked
     * it, and without it no heartbeat could be written.
     */
    private CheckResult sourceHistory(Connection c) {
        try {
            String history = single(c, "SELECT " + SourceHistory.SQL);
            return CheckResult.pass("source history", "system identifier/timeline " + history);
        } catch (SQLException e) {
            return CheckResult.fail("source history", "role " + config.source().user() + " cannot read the source's system identifier and "
                    + "timeline (" + e.getMessage() + "); every heartbeat records them",
                    "GRANT EXECUTE ON FUNCTION pg_control_system() TO "
                            + quoteIdent(config.source().user()) + ";");
        }
    }

    private CheckResult replicationRole(Connection c) throws SQLException {
        String user = config.source().user();
        String grantingRole = platform.replicationRole().orElse(null);
        try (PreparedStatement ps = c.prepareStatement("SELECT rolreplication, rolsuper, "
                + "EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = ? AND pg_has_role(r.oid, g.oid, 'MEMBER')) "
                + "FROM pg_roles r WHERE rolname = ?")) {
            ps.setString(1, grantingRole);
            ps.setString(2, user);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return CheckResult.fail("replication role", "role " + user + " does not exist",
                            "CREATE ROLE " + quoteIdent(user) + " LOGIN REPLICATION PASSWORD '...';");
                }
                if (rs.getBoolean(1) || rs.getBoolean(2)) {
                    return CheckResult.pass("replication role", "role " + user + " may replicate");
                }
                if (rs.getBoolean(3)) {
                    return CheckResult.pass("replication role", "role " + user + " may replicate (a member of " + grantingRole
                            + ", " + platform.display() + ")");
                }
            }
        }
        return CheckResult.fail("replication role", "role " + user + " lacks the REPLICATION attribute"
                + (grantingRole == null ? "" : " and is not a member of " + grantingRole + " (" + platform.display() + ")"),
                platform.replicationFix(user));
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
        List<String> partitioned = PublicationInfo.partitioned(c, config.tables());
        if (exists && !partitioned.isEmpty() && !PublicationInfo.viaRoot(c, name)) {
            // without it, PostgreSQL logs the partitions' changes under the partitions' names, which no namespace has
            if (!(config.source().createPublication() && PublicationInfo.canManage(c, config))) {
                return CheckResult.fail("publication", "publication " + name + " publishes the changes of partitioned table(s) "
                        + partitioned + " under their partitions' names, which no namespace captures",
                        "ALTER PUBLICATION " + quoteIdent(name) + " SET (publish_via_partition_root = true);");
            }
        }
        if (exists) {
            try (PreparedStatement ps = c
                    .prepareStatement("SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = ?")) {
                ps.setString(1, name);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        published.add(rs.getString(1));
                    }
                }
            }
            boolean coversAll = allTables;
            List<String> missing = wanted.stream().filter(t -> !published.contains(t) && !coversAll).toList();
            // a table that does not exist, or that PostgreSQL cannot publish, has a failed check of its own
            List<String> existingMissing = missing.stream().filter(t -> !tables.containsKey(t) || tables.get(t).exists()
                    && Publishable.problem(config, t, tables.get(t).oid(), tables.get(t).kind(), tables.get(t).persistence(),
                            tables.get(t).leaves()).isEmpty())
                    .toList();
            if (existingMissing.isEmpty()) {
                return CheckResult.pass("publication", "publication " + name + " covers every configured table");
            }
            if (config.source().createPublication() && PublicationInfo.canManage(c, config)) {
                return CheckResult.pass("publication", "publication " + name + " lacks " + existingMissing + "; capture will add them");
            }
            return CheckResult.fail("publication", "publication " + name + " lacks " + existingMissing,
                    "ALTER PUBLICATION " + quoteIdent(name) + " ADD TABLE " + String.join(", ", existingMissing) + ";");
        }
        if (config.source().createPublication() && PublicationInfo.canManage(c, config)) {
            return CheckResult.pass("publication", "publication " + name + " does not exist yet; capture will create it for " + wanted);
        }
        return CheckResult.fail("publication", "publication " + name + " does not exist and role " + config.source().user()
                + (config.source().createPublication() ? " may not create it" : " is not allowed to (create-publication: false)"),
                "CREATE PUBLICATION " + quoteIdent(name) + " FOR TABLE " + String.join(", ", wanted)
                        + " WITH (publish_via_partition_root = true);");
    }

    /**
     * The publication publishes every operation, and every row and needed column of each table:
     * {@code publish} left without update, delete or truncate, a row filter, or a column list
     * without a column a namespace needs would hide changes as silently as a missing table.
     */
    private CheckResult publicationOptions(Connection c, SourceState now) throws SQLException {
        String check = "publication options";
        if (now.publication() == null) {
            return CheckResult.pass(check, "publication " + config.source().publication() + " does not exist yet");
        }
        List<Drift> hiding = SourceDrifts.ongoing(config, now).stream().filter(d -> d.kind() == Drift.Kind.PUBLICATION_OPTIONS)
                .filter(d -> !d.fix().contains("publish_via_partition_root")).toList();
        if (hiding.isEmpty()) {
            return CheckResult.pass(check, "publication " + config.source().publication() + " publishes every operation, row and "
                    + "needed column of the configured tables");
        }
        boolean owner = config.source().createPublication() && PublicationInfo.canManage(c, config);
        List<Drift> left = owner
                ? hiding.stream().filter(d -> !d.fix().equals(SourceDrifts.publishFix(config.source().publication())))
                        .toList()
                : hiding;
        if (left.isEmpty()) {
            return CheckResult.pass(check, hiding.get(0).what() + "; capture will set it back (create-publication: true)");
        }
        return CheckResult.fail(check, left.stream().map(Drift::what).collect(Collectors.joining("; ")),
                left.stream().map(Drift::fix).distinct().collect(Collectors.joining("  ")));
    }

    /**
     * The heartbeat table must be one PostgreSQL publishes (its changes are every stage's
     * watermark; an UNLOGGED one made by hand is never decoded), and it keeps the source state
     * capture relied on: a table made before that needs the column.
     */
    private CheckResult heartbeatTable(Connection c) throws SQLException {
        String table = config.source().heartbeatTable();
        String owned = single(c,
                "SELECT CASE WHEN pg_has_role(c.relowner, 'USAGE') THEN 't' ELSE 'f' END FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE n.nspname = '" + table.substring(0, table.indexOf('.')).replace("'", "''") + "' AND c.relname = '"
                        + table.substring(table.indexOf('.') + 1).replace("'", "''") + "'");
        if (owned == null) {
            return CheckResult.pass("heartbeat table", table + " does not exist yet; capture will create it");
        }
        TableInfo info = TableInfo.read(c, table);
        var unpublishable = Publishable.problem(config, table, info.oid(), info.kind(), info.persistence(), info.leaves());
        if (unpublishable.isPresent()) {
            return CheckResult.fail("heartbeat table", unpublishable.get().message() + " (the heartbeat table, source.heartbeat-table)",
                    "ALTER TABLE " + table + " SET LOGGED; (or DROP TABLE " + table + "; capture creates it as it needs it)");
        }
        if (StateStore.hasColumn(c, config) || "t".equals(owned)) {
            return CheckResult.pass("heartbeat table", table + " exists" + (StateStore.hasColumn(c, config)
                    ? ""
                    : "; capture will add columns " + StateStore.COLUMN + " and " + StateStore.HISTORY_COLUMN));
        }
        return CheckResult.fail("heartbeat table", table + " lacks column " + StateStore.COLUMN + " or " + StateStore.HISTORY_COLUMN
                + " (where capture keeps the source state it relies on and heartbeats record the source's history) and role "
                + config.source().user() + " does not own it", StateStore.addColumnSql(config));
    }

    /**
     * The source compared with the state capture last relied on: a drift since (while capture
     * was down, or before it checked) hid changes, which capture invalidates when it next checks.
     */
    private CheckResult reliedOn(Connection c, SourceState now) throws SQLException {
        String check = "source drift";
        var relied = StateStore.load(c, config);
        if (relied.isEmpty()) {
            return CheckResult.pass(check, "capture has not recorded the source it relies on yet");
        }
        List<Drift> drifts = SourceDrifts.since(config, relied.get(), now, leaf -> false);
        if (drifts.isEmpty()) {
            return CheckResult.pass(check, "the publication and tables are those capture last relied on");
        }
        return CheckResult.warn(check, drifts.stream().map(Drift::what).collect(Collectors.joining("; "))
                + " since capture last checked",
                "none needed: capture invalidates namespace(s) "
                        + SourceDrifts.namespaces(config, drifts) + " when it next checks (at once while it runs, else when it starts)");
    }

    static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static String quoteIdent(String name) {
        return name.matches("[a-z_][a-z0-9_]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
