package io.lethe.region.inspect;

import io.lethe.config.JdbcUrls;
import io.lethe.config.KeyTemplate;
import io.lethe.config.Mode;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.config.Secret;
import io.lethe.config.SourceConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The rows behind cache keys, read from the primary, or from the region's replica when it has one
 * (the database its readers load from). A key's columns are compared as PostgreSQL prints them
 * ({@code col::text = ?}, in a session with {@code TimeZone = 'UTC'} and the default output
 * settings: how key templates render, docs/design.md "Key rendering"), so the text parsed out of a
 * key ({@link KeyTemplate#values}) finds its row whatever the column's type.
 */
final class SourceRows implements AutoCloseable {
    /** The session settings key rendering assumes. */
    private static final String SESSION = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; "
            + "SET extra_float_digits = 1; SET bytea_output = 'hex'; SET statement_timeout = '10s'; SET lock_timeout = '5s'";

    /**
     * Each column's type as a cast names it ({@code format_type} with no modifier, -1: {@code bpchar},
     * {@code "bit"}, {@code numeric}, so a cast never cuts a key's text to {@code char(1)} or
     * {@code bit(1)}), and whether its (base) type has a btree equality, so {@code col = CAST(? AS
     * type)} can be asked at all ({@code json}, {@code xml}, {@code point} have none: SQLSTATE 42883).
     * A varchar or a domain over text compares through text's; an enum through anyenum's. */
    private static final String TYPES = "SELECT a.attname, format_type(a.atttypid, -1), EXISTS (SELECT 1 FROM pg_opclass oc "
            + "JOIN pg_am am ON am.oid = oc.opcmethod WHERE am.amname = 'btree' AND oc.opcdefault AND (oc.opcintype = b.oid "
            + "OR (oc.opcintype = 'anyenum'::regtype AND b.typtype = 'e') OR EXISTS (SELECT 1 FROM pg_cast c WHERE c.castsource = b.oid "
            + "AND c.casttarget = oc.opcintype AND c.castmethod = 'b' AND c.castcontext = 'i'))) "
            + "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            + "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
            + "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped";

    /** What a key's columns select: whether a row has them, its version, its payload. */
    record Row(String version, String payload, boolean payloadRenderable) {
    }

    private final String url;
    private final Properties props = new Properties();
    private final boolean replica;
    private final SourceConfig source;
    private final Properties primaryProps = new Properties();
    private Connection connection;
    private final Map<String, PreparedStatement> statements = new LinkedHashMap<>();
    /**
     * Each table's column types ({@link #types}) that have a btree equality; read again after a
     * reconnection and after a data exception (a column's type may have changed: an {@code ALTER
     * COLUMN id TYPE bigint} would otherwise make every key past 2^31 read as gone).
     */
    private final Map<String, Map<String, String>> columnTypes = new LinkedHashMap<>();

    /**
     * Connects to the database the rows come from, as the reader role (or the replica's user).
     *
     * @param application the sessions' {@code application_name} (pg_stat_activity): {@code lethe-inspect} or {@code lethe-sweep}
     */
    SourceRows(SourceConfig source, RegionConfig region, String application) {
        this.source = source;
        primaryProps.setProperty("user", source.reader());
        if (source.readerSecret() != null) {
            primaryProps.setProperty("password", source.readerSecret().reveal());
        }
        this.replica = region.hasReplicaGate();
        this.url = replica ? region.replicaJdbcUrl() : source.jdbcUrl();
        String user = replica && region.replicaUser() != null ? region.replicaUser() : source.reader();
        props.setProperty("user", user);
        Secret password = replica && region.replicaPassword() != null ? region.replicaPassword() : source.readerSecret();
        if (password != null) {
            props.setProperty("password", password.reveal());
        }
        for (Properties p : List.of(props, primaryProps)) {
            // the timeouts as ReplicaGate's: a database that stops answering fails a lookup, it does not hang the sweep
            p.setProperty("ApplicationName", application);
            p.setProperty("connectTimeout", "5");
            p.setProperty("socketTimeout", "15");
        }
        try {
            connection();
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot connect to " + JdbcUrls.forDisplay(url) + (replica ? " (the region's replica)" : " (source.jdbc-url)")
                            + ": " + e.getMessage(),
                    e);
        }
    }

    /** Where the rows are read: "primary" or "replica". */
    String where() {
        return replica ? "replica" : "primary";
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            statements.clear();
            connection = DriverManager.getConnection(url, props);
            try (Statement s = connection.createStatement()) {
                s.execute(SESSION);
            }
        }
        return connection;
    }

    /**
     * The first row whose {@code columns} print as the given texts, or empty when none has them.
     * {@link Row#version()} is set for {@code column:} namespaces, {@link Row#payload()} for
     * {@code mode: upsert} ones (JSON as an upsert carries it; {@code payloadRenderable} false when a
     * payload column has a type this class does not render as Debezium does).
     */
    Optional<Row> find(NamespaceConfig ns, Map<String, String> columns) throws SQLException {
        try {
            return lookup(ns, columns);
        } catch (TypesChanged e) {
            // the types are read again once; then no row (noValue) or, until the next connection, text alone (a scan's cost)
            String table = ns.schemaName() + "." + ns.tableName();
            columnTypes.remove(table);
            try {
                return lookup(ns, columns);
            } catch (TypesChanged again) {
                if (again.noValue) {
                    return Optional.empty();
                }
                columnTypes.put(table, Map.of());
                try {
                    return lookup(ns, columns);
                } catch (TypesChanged third) {
                    throw new SQLException("a lookup of " + table + " compared as text failed", third.getCause());
                }
            }
        }
    }

    private Optional<Row> lookup(NamespaceConfig ns, Map<String, String> columns) throws SQLException, TypesChanged {
        List<String> select = new ArrayList<>();
        select.add("1");
        if (!ns.version().isLsn()) {
            select.add(quote(ns.version().column()) + "::text");
        }
        boolean upsert = ns.mode() == Mode.UPSERT;
        if (upsert) {
            ns.payloadColumns().forEach(c -> select.add(quote(c)));
        }
        StringBuilder sql = new StringBuilder("SELECT ").append(String.join(", ", select)).append(" FROM ")
                .append(quote(ns.schemaName())).append('.').append(quote(ns.tableName()));
        List<String> names = new ArrayList<>(columns.keySet());
        Map<String, String> types = types(ns);
        for (int i = 0; i < names.size(); i++) {
            String column = quote(names.get(i));
            String type = types.get(names.get(i));
            sql.append(i == 0 ? " WHERE " : " AND ");
            if (type != null) {
                // the column compared in its own type first, so its index finds the row (col::text alone scans the table)
                sql.append(column).append(" = CAST(? AS ").append(type).append(") AND ");
            }
            sql.append(column).append("::text = ?");
        }
        sql.append(" LIMIT 1");
        try {
            PreparedStatement ps = statements.get(sql.toString());
            if (ps == null) {
                ps = connection().prepareStatement(sql.toString());
                statements.put(sql.toString(), ps);
            }
            int index = 1;
            for (String name : names) {
                if (types.get(name) != null) {
                    ps.setString(index++, columns.get(name));
                }
                ps.setString(index++, columns.get(name));
            }
            ResultSet result;
            try {
                result = ps.executeQuery();
            } catch (SQLException e) {
                String state = e.getSQLState() == null ? "" : e.getSQLState();
                if (state.startsWith("22") || state.startsWith("23") || state.startsWith("42")) {
                    throw new TypesChanged(e); // the key's text is no value of the type, or the typed comparison cannot run
                }
                throw e;
            }
            try (ResultSet rs = result) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                int next = 2;
                String version = null;
                if (!ns.version().isLsn()) {
                    version = rs.getString(next++);
                }
                String payload = null;
                boolean renderable = true;
                if (upsert) {
                    Optional<String> p = Payloads.render(rs, next, ns.payloadColumns());
                    renderable = p.isPresent();
                    payload = p.orElse(null);
                }
                return Optional.of(new Row(version, payload, renderable));
            }
        } catch (SQLException e) {
            close();
            throw e;
        }
    }

    /**
     * The type of each column of {@code ns}'s table that has a btree equality ({@link #TYPES}:
     * {@code integer}, {@code numeric}, {@code bpchar}, ...), read once per table and connection;
     * a column missing here is compared as text alone.
     */
    private Map<String, String> types(NamespaceConfig ns) throws SQLException {
        String table = ns.schemaName() + "." + ns.tableName();
        Map<String, String> known = columnTypes.get(table);
        if (known != null) {
            return known;
        }
        Map<String, String> types = new LinkedHashMap<>();
        try (PreparedStatement ps = connection().prepareStatement(TYPES)) {
            ps.setString(1, quote(ns.schemaName()) + "." + quote(ns.tableName()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getBoolean(3)) {
                        types.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
        } catch (SQLException e) {
            close();
            throw e;
        }
        columnTypes.put(table, types);
        return types;
    }

    /**
     * The primary's WAL position now ({@code pg_current_wal_lsn()}). Read after the rows, it bounds
     * every change they, and every entry written before, could reflect; it is the primary's even
     * when the rows come from a replica, since a reader may have loaded from the primary.
     */
    long position() throws SQLException {
        if (!replica) {
            return lsn(connection(), "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
        }
        try (Connection primary = DriverManager.getConnection(source.jdbcUrl(), primaryProps)) {
            return lsn(primary, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
        }
    }

    /**
     * How far the database the rows are read from has replayed: the replica's
     * {@code pg_last_wal_replay_lsn()}; on the primary, everything ({@link Long#MAX_VALUE}). Rows
     * read once it reached {@link #position()} are at least as new as any entry written before.
     */
    long replayed() throws SQLException {
        return replica ? lsn(connection(), "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint") : Long.MAX_VALUE;
    }

    private long lsn(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            if (c == connection) {
                close();
            }
            throw e;
        }
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    @Override
    public void close() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) { // broken already
        } finally {
            connection = null;
            statements.clear();
            columnTypes.clear();
        }
    }
}
