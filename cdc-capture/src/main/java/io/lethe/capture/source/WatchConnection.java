package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The source watch's own connection to the primary and its prepared catalog query, opened when
 * first needed and again after a failure; a repair waits for no long lock, and a check never hangs
 * a batch for long.
 */
final class WatchConnection {
    private final LetheConfig config;
    private final String applicationName;
    private Connection connection;
    private PreparedStatement query;

    /** @param applicationName what the primary's {@code pg_stat_activity} shows for it */
    WatchConnection(LetheConfig config, String applicationName) {
        this.config = config;
        this.applicationName = applicationName;
    }

    /** The connection, opened (with its timeouts and the catalog query prepared) if it is not. */
    Connection get() throws SQLException {
        if (connection == null) {
            connection = SourceConnection.open(config);
            try (Statement s = connection.createStatement()) {
                // a repair waits for no long lock, and a check never hangs a batch for long
                s.execute("SET lock_timeout = '2s'");
                s.execute("SET statement_timeout = '10s'");
                s.execute("SET application_name = '" + applicationName.replace("'", "''") + "'");
            }
            query = connection.prepareStatement(SourceState.query(connection));
        }
        return connection;
    }

    /** The prepared catalog query of {@link SourceState}, once {@link #get()} opened the connection. */
    PreparedStatement query() {
        return query;
    }

    /** Closes it, if open; the next {@link #get()} opens another. */
    void close() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                // gone already
            }
            connection = null;
            query = null;
        }
    }
}
