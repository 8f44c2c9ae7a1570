package io.lethe.region.prewarm;

import io.lethe.config.JdbcUrls;
import io.lethe.config.SourceConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * PostgreSQL's own clock ({@code clock_timestamp()} on the source), the clock every commit time
 * Lethe carries was read from. Prewarm compares a region's commit times with "now": the host it
 * runs on may be minutes off, so "now" is asked of PostgreSQL too.
 */
final class SourceClock implements AutoCloseable {
    private static final String NOW = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

    private final SourceConfig source;
    private final Properties props = new Properties();
    private Connection connection;

    /** Connects at once, so a source it cannot read fails the command before it copies anything. */
    SourceClock(SourceConfig source) {
        this.source = source;
        props.setProperty("user", source.user());
        if (source.password() != null) {
            props.setProperty("password", source.password().reveal());
        }
        props.setProperty("ApplicationName", "lethe-prewarm");
        try {
            nowMicros();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read PostgreSQL's clock at " + JdbcUrls.forDisplay(source.jdbcUrl())
                    + " (source.jdbc-url): prewarm judges the source region's freshness on the database's own clock: " + e.getMessage(), e);
        }
    }

    /** PostgreSQL's time now, epoch microseconds. */
    long nowMicros() throws SQLException {
        try {
            if (connection == null || connection.isClosed()) {
                connection = DriverManager.getConnection(source.jdbcUrl(), props);
            }
            try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(NOW)) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            close();
            throw e;
        }
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
        }
    }
}
