package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The start-up checks of {@code source.mode: debezium-topics}: what Lethe relies on of the
 * connector it did not start and can see in the database (wal_level, each table's primary key,
 * columns and REPLICA IDENTITY, the
 * connector's publication ({@code source.publication}) covering every configured table, its slot
 * ({@code source.slot}) existing and active), and a warning naming what it cannot see.
 */
final class ConnectorChecks {
    private final LetheConfig config;

    ConnectorChecks(LetheConfig config) {
        this.config = config;
    }

    /** With {@code walLevel}, the result of the check both modes share. */
    List<CheckResult> run(Connection c, CheckResult walLevel) throws SQLException {
        List<CheckResult> results = new ArrayList<>();
        results.add(walLevel);
        TableChecks tableChecks = new TableChecks(config);
        for (String table : config.tables()) {
            results.addAll(tableChecks.check(table, TableInfo.read(c, table)));
        }
        results.add(connectorPublication(c));
        results.add(connectorSlot(c));
        results.add(CheckResult.warn("debezium connector", "source.mode debezium-topics: not checked, as Lethe cannot read the "
                + "connector's configuration: its skipped.operations (Debezium skips truncates by default: a skipped truncate "
                + "leaves entries stale), its converter (JsonConverter, schemas.enable as source.debezium-topics.schemas says), "
                + "unavailable.value.placeholder, column.propagate.source.type for key-template columns, and transforms that "
                + "reshape the envelope. Commit LSNs are unknown in this mode: no replica gate",
                "configure the connector with skipped.operations=none, value.converter=org.apache.kafka.connect.json.JsonConverter, "
                        + "column.propagate.source.type=<each key-template column>, and no transforms on the tables Lethe reads"));
        return results;
    }

    private CheckResult connectorPublication(Connection c) throws SQLException {
        String name = config.source().publication();
        boolean allTables;
        try (PreparedStatement ps = c.prepareStatement("SELECT puballtables FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return CheckResult.fail("publication", "publication " + name + " (source.publication: the connector's "
                            + "publication.name) does not exist",
                            "set source.publication in " + config.file()
                                    + " to the connector's publication.name");
                }
                allTables = rs.getBoolean(1);
            }
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
        List<String> missing = allTables ? List.of() : config.tables().stream().filter(t -> !published.contains(t)).toList();
        if (missing.isEmpty()) {
            return CheckResult.pass("publication", "the connector's publication " + name + " covers every configured table");
        }
        return CheckResult.fail("publication", "the connector's publication " + name + " lacks " + missing
                + ": their changes never reach its topics",
                "ALTER PUBLICATION " + DatabaseChecks.quoteIdent(name) + " ADD TABLE "
                        + String.join(", ", missing) + "; (and add them to the connector's table.include.list)");
    }

    private CheckResult connectorSlot(Connection c) throws SQLException {
        String slot = config.source().slot();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT active, wal_status, database, plugin FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return CheckResult.fail("slot", "slot " + slot + " (source.slot: the connector's slot.name) does not exist",
                            "set source.slot in " + config.file() + " to the connector's slot.name; is the connector running?");
                }
                if (!config.source().database().equals(rs.getString("database"))) {
                    return CheckResult.fail("slot", "slot " + slot + " belongs to database " + rs.getString("database") + ", not "
                            + config.source().database(), "set source.slot and source.jdbc-url to the connector's");
                }
                if ("lost".equals(rs.getString("wal_status"))) {
                    return CheckResult.fail("slot", "slot " + slot + " has lost WAL it needed: the connector missed changes, and "
                            + "Lethe with it",
                            "re-snapshot the connector, then purge the caches of its tables "
                                    + "(lethe invalidate --namespace <each>)");
                }
                if (!rs.getBoolean("active")) {
                    return CheckResult.warn("slot", "slot " + slot + " exists but no one reads it: the connector is not streaming",
                            "start the connector");
                }
                return CheckResult.pass("slot", "the connector's slot " + slot + " exists and is active (plugin " + rs.getString("plugin")
                        + ", wal_status " + rs.getString("wal_status") + ")");
            }
        }
    }
}
