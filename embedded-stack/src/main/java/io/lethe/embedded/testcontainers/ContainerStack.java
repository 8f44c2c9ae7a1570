package io.lethe.embedded.testcontainers;

import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The same servers as {@link EmbeddedStack}, in containers, for users who have a Docker engine.
 * Selected only with {@code -Dlethe.it.backend=testcontainers}; never the default (this project's
 * CI machines have no Docker engine). It has no Redis Cluster and no delayed replica: tests that
 * need those say so when they ask.
 */
public final class ContainerStack implements LetheStack {
    private final PostgreSQLContainer postgres;
    private final KafkaContainer kafka;
    private final Map<String, GenericContainer<?>> redis = new LinkedHashMap<>();
    private final Map<String, Duration> startTimes = new LinkedHashMap<>();

    private ContainerStack() {
        postgres = new PostgreSQLContainer(DockerImageName.parse("postgres:17"))
                .withCommand("postgres", "-c", "wal_level=logical", "-c", "max_replication_slots=64",
                        "-c", "max_wal_senders=64", "-c", "synchronous_commit=on", "-c", "fsync=off");
        kafka = new KafkaContainer(DockerImageName.parse("apache/kafka:4.1.1"));
        for (String region : EmbeddedStack.DEFAULT_REGIONS) {
            redis.put(region, new GenericContainer<>(DockerImageName.parse("redis:7.4")).withExposedPorts(6379));
        }
    }

    public static ContainerStack start() {
        ContainerStack stack = new ContainerStack();
        stack.timed("postgres", stack.postgres);
        stack.timed("kafka", stack.kafka);
        stack.redis.forEach((region, container) -> stack.timed("redis:" + region, container));
        return stack;
    }

    private void timed(String name, GenericContainer<?> container) {
        long t0 = System.nanoTime();
        container.start();
        startTimes.put(name, Duration.ofNanos(System.nanoTime() - t0));
    }

    @Override
    public PostgresEndpoint postgres() {
        return new PostgresEndpoint(postgres.getHost(), postgres.getMappedPort(5432), postgres.getUsername(), postgres.getPassword());
    }

    @Override
    public void createDatabase(String name) {
        PostgresEndpoint pg = postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name.replace("'", "''") + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            s.execute("CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String kafkaBootstrapServers() {
        return kafka.getBootstrapServers();
    }

    @Override
    public List<String> regions() {
        return List.copyOf(redis.keySet());
    }

    @Override
    public String redisUri(String region) {
        GenericContainer<?> c = container(region);
        return "redis://" + c.getHost() + ":" + c.getMappedPort(6379);
    }

    private GenericContainer<?> container(String region) {
        GenericContainer<?> c = redis.get(region);
        if (c == null) {
            throw new IllegalArgumentException("no Redis for region '" + region + "'; regions: " + redis.keySet());
        }
        return c;
    }

    @Override
    public void pauseRedis(String region) {
        GenericContainer<?> c = container(region);
        c.getDockerClient().pauseContainerCmd(c.getContainerId()).exec();
    }

    @Override
    public void resumeRedis(String region) {
        GenericContainer<?> c = container(region);
        c.getDockerClient().unpauseContainerCmd(c.getContainerId()).exec();
    }

    @Override
    public String redisClusterUri() {
        throw new UnsupportedOperationException("the testcontainers backend has no Redis Cluster; run without -Dlethe.it.backend");
    }

    @Override
    public PostgresEndpoint replica(Duration applyDelay) {
        throw new UnsupportedOperationException("the testcontainers backend has no delayed replica; run without -Dlethe.it.backend");
    }

    @Override
    public Map<String, Duration> startTimes() {
        return Map.copyOf(startTimes);
    }

    @Override
    public void close() {
        redis.values().forEach(GenericContainer::stop);
        kafka.stop();
        postgres.stop();
    }
}
