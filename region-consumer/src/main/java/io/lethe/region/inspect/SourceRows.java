package io.lethe.region.inspect;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.lethe.config.JdbcUrls;
import io.lethe.config.KeyTemplate;
import io.lethe.config.Mode;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.config.Secret;
import io.lethe.config.SourceConfig;
import io.lethe.schemas.serde.EventJson;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Calendar;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TimeZone;

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
            + "SET extra_float_digits = 1; SET bytea_output = 'hex'";

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

    SourceRows(SourceConfig source, RegionConfig region) {
        this.source = source;
        primaryProps.setProperty("user", source.reader());
        if (source.readerSecret() != null) {
            primaryProps.setProperty("password", source.readerSecret().reveal());
        }
        primaryProps.setProperty("ApplicationName", "lethe-inspect");
        this.replica = region.hasReplicaGate();
        this.url = replica ? region.replicaJdbcUrl() : source.jdbcUrl();
        String user = replica && region.replicaUser() != null ? region.replicaUser() : source.reader();
        props.setProperty("user", user);
        Secret password = replica && region.replicaPassword() != null ? region.replicaPassword() : source.readerSecret();
        if (password != null) {
            props.setProperty("password", password.reveal());
        }
        props.setProperty("ApplicationName", "lethe-inspect");
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
        for (int i = 0; i < names.size(); i++) {
            sql.append(i == 0 ? " WHERE " : " AND ").append(quote(names.get(i))).append("::text = ?");
        }
        sql.append(" LIMIT 1");
        try {
            PreparedStatement ps = statements.get(sql.toString());
            if (ps == null) {
                ps = connection().prepareStatement(sql.toString());
                statements.put(sql.toString(), ps);
            }
            for (int i = 0; i < names.size(); i++) {
                ps.setString(i + 1, columns.get(names.get(i)));
            }
            try (ResultSet rs = ps.executeQuery()) {
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
                    Optional<String> p = payload(rs, next, ns.payloadColumns());
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

    /**
     * The payload columns as capture carries them in a change event and the mapper renders an
     * upsert (Debezium's encoding: numbers, booleans and text as such, numeric as its text, dates as
     * days since 1970, timestamps in milli- or microseconds by precision, bytes as base64); empty
     * when a column's type is not one of these.
     */
    private static Optional<String> payload(ResultSet rs, int first, List<String> columns) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        Map<String, Object> values = new LinkedHashMap<>();
        for (int i = 0; i < columns.size(); i++) {
            int index = first + i;
            String type = md.getColumnTypeName(index);
            Object value;
            switch (type) {
                case "int2", "int4" -> value = rs.getObject(index) == null ? null : rs.getInt(index);
                case "int8" -> value = rs.getObject(index) == null ? null : rs.getLong(index);
                case "float4" -> value = rs.getObject(index) == null ? null : rs.getFloat(index);
                case "float8" -> value = rs.getObject(index) == null ? null : rs.getDouble(index);
                case "bool" -> value = rs.getObject(index) == null ? null : rs.getBoolean(index);
                case "numeric", "text", "varchar", "bpchar", "uuid", "json", "jsonb", "name" -> value = rs.getString(index);
                case "date" -> {
                    Date d = rs.getDate(index);
                    value = d == null ? null : (int) LocalDate.parse(rs.getString(index)).toEpochDay();
                }
                case "timestamp" -> {
                    Timestamp t = rs.getTimestamp(index, Calendar.getInstance(TimeZone.getTimeZone("UTC")));
                    if (t == null) {
                        value = null;
                    } else {
                        Instant at = t.toLocalDateTime().toInstant(ZoneOffset.UTC);
                        long micros = Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000);
                        value = md.getScale(index) <= 3 ? micros / 1_000 : micros;
                    }
                }
                case "bytea" -> {
                    byte[] b = rs.getBytes(index);
                    value = b == null ? null : Base64.getEncoder().encodeToString(b);
                }
                default -> {
                    return Optional.empty();
                }
            }
            values.put(columns.get(i), value);
        }
        try {
            return Optional.of(EventJson.mapper().writeValueAsString(values));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render a payload", e);
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
        } catch (SQLException ignored) {
            // broken already
        } finally {
            connection = null;
            statements.clear();
        }
    }
}
