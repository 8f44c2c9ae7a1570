package io.lethe.bench;

import io.lethe.config.JdbcUrls;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Servers named in a {@code lethe.yml}, for benchmarking against real endpoints. The source role
 * must be allowed to create databases; fault injection (pause, replica, cluster) is not offered.
 */
public final class ConfiguredStack implements LetheStack {
    private final LetheConfig config;

    public ConfiguredStack(LetheConfig config) {
        this.config = config;
    }

    @Override
    public PostgresEndpoint postgres() {
        String url = config.source().jdbcUrl();
        return new PostgresEndpoint(JdbcUrls.host(url), JdbcUrls.port(url), config.source().user(),
                config.source().password() == null ? null : config.source().password().reveal());
    }

    @Override
    public void createDatabase(String name) {
        PostgresEndpoint pg = postgres();
        try (Connection c = DriverManager.getConnection(config.source().jdbcUrl(), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name.replace("'", "''") + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            s.execute("CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + " (the source role needs CREATEDB): " + e.getMessage(), e);
        }
    }

    @Override
    public String kafkaBootstrapServers() {
        return config.kafka().bootstrapServers();
    }

    @Override
    public List<String> regions() {
        return List.copyOf(config.regions().keySet());
    }

    @Override
    public String redisUri(String region) {
        return config.region(region).redisUri();
    }

    @Override
    public void pauseRedis(String region) {
        throw new UnsupportedOperationException("pausing a configured Redis is not offered");
    }

    @Override
    public void resumeRedis(String region) {
        throw new UnsupportedOperationException("pausing a configured Redis is not offered");
    }

    @Override
    public String redisClusterUri() {
        throw new UnsupportedOperationException("not offered on configured servers");
    }

    @Override
    public PostgresEndpoint replica(Duration applyDelay) {
        throw new UnsupportedOperationException("not offered on configured servers");
    }

    @Override
    public Map<String, Duration> startTimes() {
        return Map.of();
    }

    @Override
    public void close() {
        // not ours to stop
    }
}
