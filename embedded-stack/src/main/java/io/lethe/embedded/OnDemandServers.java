package io.lethe.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisSentinel;
import redis.embedded.core.ExecutableProvider;
import redis.embedded.core.RedisSentinelBuilder;

/**
 * The servers of an {@link EmbeddedStack} that tests start on first use or by name: a second Kafka
 * cluster, a Redis Cluster, a PostgreSQL replica, extra PostgreSQL and Redis servers with their own
 * settings, Redis Sentinels. The stack stops them with the rest. Callers synchronize (the stack's
 * methods are synchronized).
 */
final class OnDemandServers {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStack.class);

    private final Path workDir;
    private final Path cacheDir;
    private final int kafkaPartitions;
    private final StartTimes times;
    private final Supplier<EmbeddedPostgresServer> primary;
    /** A second cluster (one broker), started on first use: a region's own cluster, mirrored from the stack's Kafka. */
    EmbeddedKafkaBroker secondKafka;
    EmbeddedRedisCluster cluster;
    EmbeddedPostgresServer replica;
    final List<EmbeddedPostgresServer> extraPostgres = new ArrayList<>();
    final List<EmbeddedRedisServer> extraRedis = new ArrayList<>();
    private final List<RedisSentinel> sentinels = new ArrayList<>();

    OnDemandServers(Path workDir, Path cacheDir, int kafkaPartitions, StartTimes times, Supplier<EmbeddedPostgresServer> primary) {
        this.workDir = workDir;
        this.cacheDir = cacheDir;
        this.kafkaPartitions = kafkaPartitions;
        this.times = times;
        this.primary = primary;
    }

    String secondKafkaBootstrapServers() {
        if (secondKafka == null) {
            secondKafka = times.timed("kafka-second", () -> EmbeddedKafkaBroker.start(workDir.resolve("kafka-second"), kafkaPartitions));
        }
        return secondKafka.bootstrapServers();
    }

    EmbeddedRedisCluster redisCluster() {
        if (cluster == null) {
            cluster = times.timed("redis-cluster", () -> EmbeddedRedisCluster.start(workDir.resolve("redis-cluster"),
                    cacheDir.resolve("redis"), 3));
        }
        return cluster;
    }

    PostgresEndpoint replica(Duration applyDelay) {
        if (replica == null) {
            replica = times.timed("postgres-replica", () -> primary.get().startReplica(workDir.resolve("postgres-replica"),
                    cacheDir.resolve("postgres"), applyDelay));
        }
        return replica.endpoint();
    }

    PostgresEndpoint startExtraPostgres(String name, Map<String, String> settings) {
        EmbeddedPostgresServer server = times.timed("postgres-" + name, () -> EmbeddedPostgresServer.startWith(
                workDir.resolve("postgres-" + name), cacheDir.resolve("postgres"), settings));
        extraPostgres.add(server);
        return server.endpoint();
    }

    int startExtraRedis(String name, List<String> settings) {
        EmbeddedRedisServer server = times.timed("redis-" + name, () -> EmbeddedRedisServer.start(name, workDir.resolve("redis-" + name),
                cacheDir.resolve("redis"), settings));
        extraRedis.add(server);
        return server.port();
    }

    int startSentinel(String masterName, int masterPort) {
        int port = FreePorts.next();
        RedisSentinelBuilder builder = RedisSentinel.newRedisSentinel()
                .executableProvider(ExecutableProvider.newJarResourceProvider(cacheDir.resolve("redis").toFile()))
                .bind("127.0.0.1").port(port).masterName(masterName).masterPort(masterPort).quorumSize(1)
                .downAfterMilliseconds(5000).failOverTimeout(10000).onShutdownForceStop(true);
        RedisSentinel sentinel = times.timed("sentinel-" + masterName, () -> {
            RedisSentinel s = builder.build();
            try {
                s.start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start a sentinel for " + masterName, e);
            }
            return s;
        });
        sentinels.add(sentinel);
        return port;
    }

    /** Stops every sentinel (first, before the servers they watch). */
    void stopSentinels() {
        for (RedisSentinel sentinel : sentinels) {
            try {
                sentinel.stop();
            } catch (IOException | RuntimeException e) {
                LOG.warn("stopping a sentinel failed: {}", e.toString());
            }
        }
    }
}
