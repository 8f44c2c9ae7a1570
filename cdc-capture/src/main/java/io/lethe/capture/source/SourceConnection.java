package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** A JDBC connection to the primary, with the password from the configuration's secret. */
public final class SourceConnection {
    private SourceConnection() {
    }

    public static Connection open(LetheConfig config) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", config.source().user());
        if (config.source().password() != null) {
            props.setProperty("password", config.source().password().reveal());
        }
        return DriverManager.getConnection(config.source().jdbcUrl(), props);
    }
}
