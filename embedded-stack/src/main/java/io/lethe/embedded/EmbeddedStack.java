package io.lethe.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisSentinel;
import redis.embedded.core.ExecutableProvider;
import redis.embedded.core.RedisSentinelBuilder;

/**
 * Real PostgreSQL, Kafka and Redis servers started from Maven artifacts, without Docker, on free
 * 127.0.0.1 ports, with all their data under one work directory. Everything it starts is stopped
 * by {@link #close()}, and by a shutdown hook on Ctrl-C.
 */
public final class EmbeddedStack implements LetheStack {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStack.class);
    /** The regions of the demo and of the test fixture. */
    public static final List<String> DEFAULT_REGIONS = List.of("us-east", "eu-west", "ap-tokyo");

    private final Options options;
    private final Path workDir;
    private final Map<String, Duration> startTimes = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, EmbeddedRedisServer> redis = new LinkedHashMap<>();
    private final Thread shutdownHook = new Thread(this::close, "lethe-embedded-stack-shutdown");
    private EmbeddedPostgresServer postgres;
    private EmbeddedKafkaBroker kafka;
    /** A second cluster (one broker), started on first use: a region's own cluster, mirrored from {@link #kafka}. */
    private EmbeddedKafkaBroker secondKafka;
    private EmbeddedRedisCluster cluster;
    private EmbeddedPostgresServer replica;
    private final List<EmbeddedPostgresServer> extraPostgres = new ArrayList<>();
    private final List<EmbeddedRedisServer> extraRedis = new ArrayList<>();
    private final List<RedisSentinel> sentinels = new ArrayList<>();
    private boolean closed;

    /**
     * What to start.
     *
     * @param workDir       where all data goes; null for a new temporary directory, deleted on close
     * @param cacheDir      where server binaries are unpacked once and reused
     * @param regions       one Redis per region
     * @param kafkaPartitions default partitions of topics created without a count
     */
    public record Options(Path workDir, Path cacheDir, List<String> regions, int kafkaPartitions) {
        public Options {
            regions = List.copyOf(regions);
        }

        /** Defaults; {@code -Dlethe.stack.dir=<dir>} keeps the servers' data there for inspection. */
        public static Options defaults() {
            String keep = System.getProperty("lethe.stack.dir");
            return new Options(keep == null ? null : Paths.get(keep), defaultCacheDir(), DEFAULT_REGIONS, 3);
        }

        public Options withRegions(List<String> names) {
            return new Options(workDir, cacheDir, names, kafkaPartitions);
        }

        public Options withWorkDir(Path dir) {
            return new Options(dir, cacheDir, regions, kafkaPartitions);
        }

        /** {@code $LETHE_CACHE_DIR}, else {@code ~/.cache/lethe}. */
        public static Path defaultCacheDir() {
            String env = System.getenv("LETHE_CACHE_DIR");
            return env != null ? Paths.get(env) : Paths.get(System.getProperty("user.home"), ".cache", "lethe");
        }
    }

    private EmbeddedStack(Options options, Path workDir) {
        this.options = options;
        this.workDir = workDir;
    }

    public static EmbeddedStack start() {
        return start(Options.defaults());
    }

    /** Starts PostgreSQL, Kafka and every region's Redis; on failure stops what did start. */
    public static EmbeddedStack start(Options options) {
        Path workDir;
        try {
            if (options.workDir() != null && Files.isDirectory(options.workDir())) {
                try (Stream<Path> entries = Files.list(options.workDir())) {
                    if (entries.findAny().isPresent()) {
                        throw new IllegalArgumentException("the work directory " + options.workDir()
                                + " is not empty; give a new or empty directory (servers cannot reuse old data)");
                    }
                }
            }
            workDir = options.workDir() != null
                    ? Files.createDirectories(options.workDir())
                    : Files.createTempDirectory("lethe-stack-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the work directory", e);
        }
        EmbeddedStack stack = new EmbeddedStack(options, workDir);
        Runtime.getRuntime().addShutdownHook(stack.shutdownHook);
        try {
            CompletableFuture<EmbeddedKafkaBroker> kafka = CompletableFuture.supplyAsync(
                    () -> stack.timed("kafka", () -> EmbeddedKafkaBroker.start(workDir.resolve("kafka"), options.kafkaPartitions())));
            stack.postgres = stack.timed("postgres", () -> EmbeddedPostgresServer.startPrimary(workDir.resolve("postgres"),
                    options.cacheDir().resolve("postgres")));
            for (String region : options.regions()) {
                stack.redis.put(region, stack.timed("redis:" + region, () -> EmbeddedRedisServer.start(region,
                        workDir.resolve("redis").resolve(region), options.cacheDir().resolve("redis"), List.of())));
            }
            stack.kafka = kafka.join();
            LOG.info("embedded stack up in {}: {}", workDir, stack.describe());
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e instanceof CompletionException && e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private <T> T timed(String name, Supplier<T> start) {
        long t0 = System.nanoTime();
        T server = start.get();
        startTimes.put(name, Duration.ofNanos(System.nanoTime() - t0));
        return server;
    }

    /** One line per server: name, endpoint and start time. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("postgres ").append(postgres.endpoint().jdbcUrl("postgres"));
        sb.append(" | kafka ").append(kafka == null ? "-" : kafka.bootstrapServers());
        if (secondKafka != null) {
            sb.append(" | kafka-second ").append(secondKafka.bootstrapServers());
        }
        redis.forEach((region, server) -> sb.append(" | redis[").append(region).append("] ").append(server.uri()));
        return sb.toString();
    }

    public Path workDir() {
        return workDir;
    }

    @Override
    public PostgresEndpoint postgres() {
        return postgres.endpoint();
    }

    @Override
    public void createDatabase(String name) {
        postgres.createDatabase(name);
    }

    @Override
    public String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public KafkaSasl kafkaSasl() {
        return kafka.sasl();
    }

    @Override
    public KafkaSasl kafkaScramUser(String user) {
        return kafka.scramUser(user);
    }

    @Override
    public List<String> regions() {
        return List.copyOf(redis.keySet());
    }

    @Override
    public String redisUri(String region) {
        return server(region).uri();
    }

    private EmbeddedRedisServer server(String region) {
        EmbeddedRedisServer server = redis.get(region);
        if (server == null) {
            throw new IllegalArgumentException("no Redis for region '" + region + "'; regions: " + redis.keySet());
        }
        return server;
    }

    @Override
    public void pauseRedis(String region) {
        server(region).pause();
    }

    @Override
    public void resumeRedis(String region) {
        server(region).resume();
    }

    /**
     * Restarts a region's Redis on the same port and data directory, as after a crash or a
     * reboot: it loads whatever snapshot ({@code dump.rdb}, written by {@code SAVE}/{@code BGSAVE})
     * is there, so a test can bring a cache back from an old snapshot. A server already shut down
     * (e.g. by {@code SHUTDOWN NOSAVE}) is just started again.
     */
    public synchronized void restartRedis(String region) {
        EmbeddedRedisServer old = server(region);
        try {
            old.close();
        } catch (RuntimeException e) {
            LOG.debug("Redis {} was already down: {}", region, e.toString());
        }
        redis.put(region, EmbeddedRedisServer.start(region, workDir.resolve("redis").resolve(region),
                options.cacheDir().resolve("redis"), old.port(), List.of()));
    }

    /**
     * {@code kill -9} of a region's Redis, then started again on the same port and data directory
     * with {@code settings} added (e.g. {@code appendonly yes}: it then loads its append-only file,
     * which may lack the last second of writes, instead of the RDB snapshot).
     */
    public synchronized void crashRedis(String region, List<String> settings) {
        killRedis(region);
        startRedis(region, settings);
    }

    /**
     * {@code kill -9} of a region's Redis by its PID, left down (connections refused) until
     * {@link #startRedis(String, List)}: an outage, as when its host is lost.
     */
    public synchronized void killRedis(String region) {
        EmbeddedRedisServer old = server(region);
        old.crash();
        try {
            old.close();
        } catch (RuntimeException e) {
            LOG.debug("Redis {} was already gone: {}", region, e.toString());
        }
    }

    /**
     * Starts a region's Redis stopped by {@link #killRedis} again, on the same port and data
     * directory, with {@code settings} added; it loads whatever snapshot is there (none unless a
     * test saved one: the embedded Redis runs with {@code save ""}).
     */
    public synchronized void startRedis(String region, List<String> settings) {
        EmbeddedRedisServer old = server(region);
        for (int attempt = 1;; attempt++) {
            try {
                redis.put(region, EmbeddedRedisServer.start(region, workDir.resolve("redis").resolve(region),
                        options.cacheDir().resolve("redis"), old.port(), settings));
                return;
            } catch (UncheckedIOException e) {
                if (attempt == 20) {
                    throw e;
                }
                try {
                    Thread.sleep(250); // the killed process may still hold the port for a moment
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** The URIs of the Redis Cluster's nodes (starting it if needed). */
    public synchronized List<String> redisClusterNodeUris() {
        redisClusterUri();
        return cluster.nodeUris();
    }

    /** Restarts one Redis Cluster node from its snapshot, as {@link #restartRedis} does for a region's Redis. */
    public synchronized void restartRedisClusterNode(int node) {
        redisClusterUri();
        cluster.restartNode(node);
    }

    /** Stops the broker, keeping its data (for fault injection); {@link #startKafka()} brings it back. */
    public void stopKafka() {
        kafka.stop();
    }

    public void startKafka() {
        kafka.startServer();
    }

    /**
     * {@code 127.0.0.1:port} of a second Kafka cluster (one broker, its own KRaft controller),
     * started on first use and stopped with the stack: a region's own cluster, for tests of
     * regions that read a cluster mirrored from the primary (MirrorMaker 2 runs in the dev module).
     */
    public synchronized String secondKafkaBootstrapServers() {
        if (secondKafka == null) {
            secondKafka = timed("kafka-second",
                    () -> EmbeddedKafkaBroker.start(workDir.resolve("kafka-second"), options.kafkaPartitions()));
        }
        return secondKafka.bootstrapServers();
    }

    @Override
    public synchronized String redisClusterUri() {
        if (cluster == null) {
            cluster = timed("redis-cluster", () -> EmbeddedRedisCluster.start(workDir.resolve("redis-cluster"),
                    options.cacheDir().resolve("redis"), 3));
        }
        return cluster.uri();
    }

    @Override
    public synchronized PostgresEndpoint replica(Duration applyDelay) {
        if (replica == null) {
            replica = timed("postgres-replica", () -> postgres.startReplica(workDir.resolve("postgres-replica"),
                    options.cacheDir().resolve("postgres"), applyDelay));
        }
        return replica.endpoint();
    }

    /**
     * Starts one more PostgreSQL with some settings overridden (e.g. {@code wal_level=replica}),
     * stopped with the stack: for tests of what capture and doctor refuse.
     */
    public synchronized PostgresEndpoint startExtraPostgres(String name, Map<String, String> settings) {
        EmbeddedPostgresServer server = timed("postgres-" + name, () -> EmbeddedPostgresServer.startWith(
                workDir.resolve("postgres-" + name), options.cacheDir().resolve("postgres"), settings));
        extraPostgres.add(server);
        return server.endpoint();
    }

    /**
     * Starts one more Redis with extra settings (e.g. {@code tls-port}), stopped with the stack:
     * for tests of TLS and other server options.
     *
     * @return its plain-text port
     */
    public synchronized int startExtraRedis(String name, List<String> settings) {
        EmbeddedRedisServer server = timed("redis-" + name, () -> EmbeddedRedisServer.start(name, workDir.resolve("redis-" + name),
                options.cacheDir().resolve("redis"), settings));
        extraRedis.add(server);
        return server.port();
    }

    /**
     * Starts a Redis Sentinel (the embedded Redis binary in sentinel mode) monitoring the Redis on
     * {@code masterPort} as {@code masterName}, stopped with the stack.
     *
     * @return the sentinel's port
     */
    public synchronized int startSentinel(String masterName, int masterPort) {
        int port = FreePorts.next();
        RedisSentinelBuilder builder = RedisSentinel.newRedisSentinel()
                .executableProvider(ExecutableProvider.newJarResourceProvider(options.cacheDir().resolve("redis").toFile()))
                .bind("127.0.0.1").port(port).masterName(masterName).masterPort(masterPort).quorumSize(1)
                .downAfterMilliseconds(5000).failOverTimeout(10000).onShutdownForceStop(true);
        RedisSentinel sentinel = timed("sentinel-" + masterName, () -> {
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

    @Override
    public Map<String, Duration> startTimes() {
        synchronized (startTimes) {
            return Map.copyOf(new LinkedHashMap<>(startTimes));
        }
    }

    /** Start times in start order, for reports. */
    public List<Map.Entry<String, Duration>> startTimesInOrder() {
        synchronized (startTimes) {
            return new ArrayList<>(startTimes.entrySet());
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // called from the hook itself
        }
        for (RedisSentinel sentinel : sentinels) {
            try {
                sentinel.stop();
            } catch (IOException | RuntimeException e) {
                LOG.warn("stopping a sentinel failed: {}", e.toString());
            }
        }
        List<AutoCloseable> servers = new ArrayList<>();
        servers.add(secondKafka);
        servers.add(cluster);
        servers.addAll(redis.values());
        servers.addAll(extraRedis);
        servers.add(kafka);
        servers.add(replica);
        servers.addAll(extraPostgres);
        servers.add(postgres);
        for (AutoCloseable server : servers) {
            if (server == null) {
                continue;
            }
            try {
                server.close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed: {}", server.getClass().getSimpleName(), e.toString());
            }
        }
        if (options.workDir() == null) {
            deleteRecursively(workDir);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("could not delete {}: {}", dir, e.toString());
        }
    }
}
