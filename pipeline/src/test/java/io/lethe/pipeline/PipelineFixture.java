package io.lethe.pipeline;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.LetheYml;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.TestScope;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test's own pipeline on the shared stack: config for its scope, SQL, and Redis per region. The
 * fixture of the pipeline-wide tests (dev) and of the tests of a {@code lethe} command against a
 * running pipeline (cli), shipped in this module's test jar.
 */
public final class PipelineFixture implements AutoCloseable {
    public final LetheStack stack;
    public final TestScope scope;
    public final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RedisClient redisClient = RedisClient.create();
    private final Map<String, StatefulRedisConnection<String, String>> connections = new LinkedHashMap<>();
    private Pipeline pipeline;
    private final java.util.Deque<AutoCloseable> owned = new java.util.ArrayDeque<>();

    /** The regions' {@code apply.sweep} settings as a YAML flow map; null: off, unless a test turns it on. */
    private String sweep;

    public PipelineFixture(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
    }

    /**
     * Turns the regions' sweep of their keys against the database on for the next {@link #yaml},
     * with {@code settings} ({@code apply.sweep} as a YAML flow map, e.g. {@code "{}"} for the
     * defaults). It is off by default here: tests that judge Lethe's own guards (a race, a replay, a
     * planted entry for {@code lethe inspect}) must see what the guard left, not what a sweep healed since.
     */
    public PipelineFixture sweep(String settings) {
        sweep = settings;
        return this;
    }

    /** The YAML for this scope: {@code regions} subscribe to {@code regionNamespaces} ("" for all). */
    public String yaml(List<String> regions, String namespacesYaml, String extra) {
        Map<String, String> specs = new LinkedHashMap<>();
        regions.forEach(region -> specs.put(region, "{ redis: " + stack.redisUri(region) + " }"));
        return yaml(specs, namespacesYaml, extra);
    }

    /** The YAML for this scope with each region's own settings, e.g. {@code { redis: "...", topology: cluster }}. */
    public String yaml(Map<String, String> regionSpecs, String namespacesYaml, String extra) {
        LetheYml yaml = LetheYml.on(stack, scope.database()).slot(scope.slot()).publication(scope.publication()).heartbeat("1s")
                .topicPrefix(scope.topicPrefix()).groups(scope.id()).namespaces(namespacesYaml).extra(extra);
        yaml.apply("sweep: " + (sweep == null ? "{ enabled: false }" : sweep));
        if (sweep != null) {
            // the sweep runs only with a reader role; the test database's user stands in for one
            yaml.source("reader-user: " + stack.postgres().user());
        }
        regionSpecs.forEach(yaml::region);
        return yaml.build();
    }

    public LetheConfig config(String yaml) {
        return ConfigLoader.parse(scope.id() + "-lethe.yml", yaml, System::getenv);
    }

    public Pipeline start(LetheConfig config) throws InterruptedException {
        return start(config, io.lethe.stage.trace.Tracing.OFF);
    }

    /** Starts every stage of {@code config}, tracing with {@code tracing}. */
    public Pipeline start(LetheConfig config, io.lethe.stage.trace.Tracing tracing) throws InterruptedException {
        startFeeding(config, tracing);
        awaitFirstFeeds();
        return pipeline;
    }

    /** Starts every stage of {@code config} without waiting for the regions' first feeds (see {@link #awaitFirstFeeds}). */
    public Pipeline startFeeding(LetheConfig config, io.lethe.stage.trace.Tracing tracing) throws InterruptedException {
        pipeline = Pipeline.start(config, Roles.all(config), registry, Clock.systemUTC(), tracing);
        return pipeline;
    }

    /**
     * Waits until every region's first feed is done: it invalidates what its Redis held wholesale once
     * streams is proven to write its topic (watermarks: capture, or a connector, must run), so entries a
     * test plants are planted after it. A region held back meanwhile, by its replica gate or a
     * misconfiguration, is what such a test looks at.
     */
    public void awaitFirstFeeds() throws InterruptedException {
        awaitFirstFeeds(pipeline);
    }

    /** {@link #awaitFirstFeeds()} of a pipeline a test started itself. */
    public static void awaitFirstFeeds(Pipeline pipeline) throws InterruptedException {
        Await.until("every region's first feed", Duration.ofSeconds(90), pipeline::firstFeedsSettled);
    }

    /** Closes {@code resource} with the fixture (last owned, first closed). */
    public <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    public void sql(String... statements) throws SQLException {
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    /** PostgreSQL's WAL insert position now, as a number: a position after every change committed before the call. */
    public long currentLsn() throws SQLException {
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
                Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The applied watermark consumer group {@code group} published in {@code region}'s Redis, or -1 when none. */
    public long appliedLsn(String region, String group) {
        return io.lethe.schemas.redis.AppliedLsn.of(redis(region).hgetall(io.lethe.schemas.redis.AppliedLsn.key(group))).orElse(-1);
    }

    public RedisCommands<String, String> redis(String region) {
        return connections.computeIfAbsent(region, r -> redisClient.connect(RedisURI.create(stack.redisUri(r)))).sync();
    }

    @Override
    public void close() {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                throw new IllegalStateException("closing a test resource", e);
            }
        }
        if (pipeline != null) {
            pipeline.close();
        }
        connections.values().forEach(StatefulRedisConnection::close);
        redisClient.shutdown();
    }
}
