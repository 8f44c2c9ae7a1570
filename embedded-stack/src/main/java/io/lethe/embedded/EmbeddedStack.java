package io.lethe.embedded;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private final StartTimes startTimes = new StartTimes();
    private final RegionRedisServers redis;
    /** Servers started on first use or by name, stopped with the rest. */
    private final OnDemandServers onDemand;
    private final Thread shutdownHook = new Thread(this::close, "lethe-embedded-stack-shutdown");
    private EmbeddedPostgresServer postgres;
    private EmbeddedKafkaBroker kafka;
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
        this.redis = new RegionRedisServers(workDir, options.cacheDir().resolve("redis"));
        this.onDemand = new OnDemandServers(workDir, options.cacheDir(), options.kafkaPartitions(), startTimes, () -> postgres);
    }

    public static EmbeddedStack start() {
        return start(Options.defaults());
    }

    /** Starts PostgreSQL, Kafka and every region's Redis; on failure stops what did start. */
    public static EmbeddedStack start(Options options) {
        Path workDir = WorkDirectory.create(options.workDir());
        EmbeddedStack stack = new EmbeddedStack(options, workDir);
        Runtime.getRuntime().addShutdownHook(stack.shutdownHook);
        try {
            CompletableFuture<EmbeddedKafkaBroker> kafka = CompletableFuture.supplyAsync(
                    () -> stack.startTimes.timed("kafka",
                            () -> EmbeddedKafkaBroker.start(workDir.resolve("kafka"), options.kafkaPartitions())));
            stack.postgres = stack.startTimes.timed("postgres", () -> EmbeddedPostgresServer.startPrimary(workDir.resolve("postgres"),
                    options.cacheDir().resolve("postgres")));
            for (String region : options.regions()) {
                stack.redis.start(region, stack.startTimes);
            }
            stack.kafka = kafka.join();
            LOG.info("embedded stack up in {}: {}", workDir, stack.describe());
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e instanceof CompletionException && e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** One line per server: name, endpoint and start time. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("postgres ").append(postgres.endpoint().jdbcUrl("postgres"));
        sb.append(" | kafka ").append(kafka == null ? "-" : kafka.bootstrapServers());
        if (onDemand.secondKafka != null) {
            sb.append(" | kafka-second ").append(onDemand.secondKafka.bootstrapServers());
        }
        redis.byRegion().forEach((region, server) -> sb.append(" | redis[").append(region).append("] ").append(server.uri()));
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
        return redis.regions();
    }

    @Override
    public String redisUri(String region) {
        return redis.server(region).uri();
    }

    @Override
    public void pauseRedis(String region) {
        redis.server(region).pause();
    }

    @Override
    public void resumeRedis(String region) {
        redis.server(region).resume();
    }

    /** Restarts a region's Redis on the same port and data directory, loading its snapshot ({@link RegionRedisServers#restart}). */
    public synchronized void restartRedis(String region) {
        redis.restart(region);
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

    /** {@code kill -9} of a region's Redis, left down until {@link #startRedis(String, List)} ({@link RegionRedisServers#kill}). */
    public synchronized void killRedis(String region) {
        redis.kill(region);
    }

    /** Starts a region's Redis stopped by {@link #killRedis} again, with {@code settings} added ({@link RegionRedisServers#start(String, List)}). */
    public synchronized void startRedis(String region, List<String> settings) {
        redis.start(region, settings);
    }

    /** The URIs of the Redis Cluster's nodes (starting it if needed). */
    public synchronized List<String> redisClusterNodeUris() {
        return onDemand.redisCluster().nodeUris();
    }

    /** Restarts one Redis Cluster node from its snapshot, as {@link #restartRedis} does for a region's Redis. */
    public synchronized void restartRedisClusterNode(int node) {
        onDemand.redisCluster().restartNode(node);
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
        return onDemand.secondKafkaBootstrapServers();
    }

    @Override
    public synchronized String redisClusterUri() {
        return onDemand.redisCluster().uri();
    }

    @Override
    public synchronized PostgresEndpoint replica(Duration applyDelay) {
        return onDemand.replica(applyDelay);
    }

    /**
     * Starts one more PostgreSQL with some settings overridden (e.g. {@code wal_level=replica}),
     * stopped with the stack: for tests of what capture and doctor refuse.
     */
    public synchronized PostgresEndpoint startExtraPostgres(String name, Map<String, String> settings) {
        return onDemand.startExtraPostgres(name, settings);
    }

    /**
     * Starts one more Redis with extra settings (e.g. {@code tls-port}), stopped with the stack:
     * for tests of TLS and other server options.
     *
     * @return its plain-text port
     */
    public synchronized int startExtraRedis(String name, List<String> settings) {
        return onDemand.startExtraRedis(name, settings);
    }

    /**
     * Starts a Redis Sentinel (the embedded Redis binary in sentinel mode) monitoring the Redis on
     * {@code masterPort} as {@code masterName}, stopped with the stack.
     *
     * @return the sentinel's port
     */
    public synchronized int startSentinel(String masterName, int masterPort) {
        return onDemand.startSentinel(masterName, masterPort);
    }

    @Override
    public Map<String, Duration> startTimes() {
        return startTimes.snapshot();
    }

    /** Start times in start order, for reports. */
    public List<Map.Entry<String, Duration>> startTimesInOrder() {
        return startTimes.inOrder();
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
        onDemand.stopSentinels();
        List<AutoCloseable> servers = new ArrayList<>();
        servers.add(onDemand.secondKafka);
        servers.add(onDemand.cluster);
        servers.addAll(redis.servers());
        servers.addAll(onDemand.extraRedis);
        servers.add(kafka);
        servers.add(onDemand.replica);
        servers.addAll(onDemand.extraPostgres);
        servers.add(postgres);
        WorkDirectory.stopInOrder(servers);
        if (options.workDir() == null) {
            WorkDirectory.delete(workDir);
        }
    }
}
