package io.lethe.dev.verify.scenario;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.dev.verify.Drain;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.LetheYml;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * What one scenario owns on the shared embedded stack, and how it is judged. Each run gets its
 * own database (so its own publication and slot), topic prefix, consumer groups and Redis key
 * prefix, so scenarios never see each other's data. Every configuration it builds also carries
 * a sentinel namespace: {@link #quiesce} commits a change to the sentinel row and waits until
 * its invalidation has reached every region, which proves that everything committed before it
 * was processed (changes of one capture arrive in commit order).
 *
 * <p>The judgement reads only Redis and PostgreSQL: every entry under the run's key prefix is
 * compared with what {@link #truth} says the database holds for that key now.
 */
public final class ScenarioRun implements AutoCloseable {
    private static final Duration QUIESCE_TIMEOUT = Duration.ofSeconds(90);

    private final EmbeddedStack stack;
    private final List<String> regions;
    private final String id;
    private final String database;
    private final List<String> done = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private final Map<String, String> filled = new LinkedHashMap<>();
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private final RedisClient redisClient = RedisClient.create();
    private final Map<String, StatefulRedisConnection<String, String>> connections = new LinkedHashMap<>();
    /** Regions whose Redis is the stack's Redis Cluster, with their connections. */
    private final Map<String, io.lettuce.core.cluster.api.StatefulRedisClusterConnection<String, String>> clusterRegions = new LinkedHashMap<>();
    private io.lettuce.core.cluster.RedisClusterClient clusterClient;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private Function<String, Optional<String>> truth = key -> null;
    private final Map<String, String> regionSettings = new LinkedHashMap<>();
    private String heartbeatInterval = "1s";
    private final List<String> sourceSettings = new ArrayList<>();
    private final List<String> streamsSettings = new ArrayList<>();
    private int proberSampleEvery;
    private boolean secondJudge;
    private Map<String, String> settings = Map.of();

    public ScenarioRun(EmbeddedStack stack, List<String> regions, String scenario) {
        this.stack = stack;
        this.regions = List.copyOf(regions);
        this.id = "s" + scenario.replaceAll("[^a-z0-9]", "").substring(0, Math.min(6, scenario.replaceAll("[^a-z0-9]", "").length()))
                + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36).toLowerCase(Locale.ROOT);
        this.database = "lethe_" + id;
        stack.createDatabase(database);
    }

    /** The settings given to {@code lethe verify --scenario-setting} (e.g. {@code steady.writes-per-second=1000}). */
    void settings(Map<String, String> given) {
        settings = Map.copyOf(given);
    }

    /** A scenario setting, or {@code dflt} when none was given. */
    public String setting(String name, String dflt) {
        return settings.getOrDefault(name, dflt);
    }

    /** A whole-number scenario setting, or {@code dflt}; a value that is not one is refused with the setting's name. */
    public int setting(String name, int dflt) {
        String v = settings.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("scenario setting " + name + " must be a whole number, was '" + v + "'");
        }
    }

    /** The run's Redis key prefix: every key a scenario judges starts with it. */
    public String p() {
        return id + ":";
    }

    public String id() {
        return id;
    }

    public List<String> regions() {
        return regions;
    }

    public EmbeddedStack stack() {
        return stack;
    }

    public SimpleMeterRegistry registry() {
        return registry;
    }

    /** The run's replication slot (named after its database). */
    public String slot() {
        return database;
    }

    /** The run's JDBC URL (its own database on the primary). */
    public String jdbcUrl() {
        return stack.postgres().jdbcUrl(database);
    }

    /** A lethe.yml for this run: the given namespaces (YAML under {@code namespaces:}) and extra top-level YAML. */
    public String yaml(String namespacesYaml, String extraYaml) {
        LetheYml yaml = LetheYml.on(stack, database).slot(database).heartbeat(heartbeatInterval).topicPrefix(id).groups(id)
                .apply("prober: { sample-every: " + proberSampleEvery + " }")
                // a scenario judges Lethe's guards: a sweep would heal what a broken guard left before the judge sees it
                .apply("sweep: { enabled: false }")
                .namespaces("sentinel: { table: public.lethe_sentinel, keys: [\"" + p() + "sentinel:{id}\"] }\n" + namespacesYaml)
                .extra(extraYaml);
        sourceSettings.forEach(yaml::source);
        streamsSettings.forEach(yaml::streams);
        for (String region : configured == null ? regions : configured) {
            yaml.region(region, "{ redis: "
                    + (clusterRegions.containsKey(region) ? stack.redisClusterUri() + ", topology: cluster" : stack.redisUri(region))
                    + (regionSettings.getOrDefault(region, "").isEmpty() ? "" : ", " + regionSettings.get(region)) + " }");
        }
        return yaml.build();
    }

    /** The regions of the next {@link #config}, in this order (default: all of the run's, in the run's order). */
    public void configuredRegions(List<String> some) {
        if (!regions.containsAll(some)) {
            throw new IllegalArgumentException("not regions of this run: " + some + "; the run's: " + regions);
        }
        configured = List.copyOf(some);
    }

    private List<String> configured;

    /** Extra settings of one region in the next {@link #config} (YAML flow-map entries, e.g. {@code replica: ...}). */
    public void regionSettings(String region, String settings) {
        regionSettings.put(region, settings);
    }

    /** The staleness prober of the next {@link #config} checks 1 in {@code n} invalidations (default 0: off). */
    public void proberSampleEvery(int n) {
        proberSampleEvery = n;
    }

    /** A setting under {@code source:} of the next {@link #config}, e.g. {@code create-publication: false}. */
    public void sourceSetting(String setting) {
        sourceSettings.add(setting);
    }

    /** A setting under {@code streams:} of the next {@link #config}, e.g. {@code watermark-key: ...}. */
    public void streamsSetting(String setting) {
        streamsSettings.add(setting);
    }

    /** The run's publication (named after its database). */
    public String publication() {
        return database;
    }

    /** The heartbeat interval of the next {@link #config} (default 1s). */
    public void heartbeatInterval(String interval) {
        heartbeatInterval = interval;
    }

    public LetheConfig config(String namespacesYaml) {
        return config(namespacesYaml, "");
    }

    public LetheConfig config(String namespacesYaml, String extraYaml) {
        return ConfigLoader.parse(id + "-lethe.yml", yaml(namespacesYaml, extraYaml), System::getenv);
    }

    /** Creates the sentinel table; call before the pipeline starts. */
    private boolean sentinelCreated;
    /** The config of the last {@link #start}: its region groups are waited for by {@link #quiesce}. */
    private LetheConfig started;

    /** Starts every stage in this process; stopped when the run closes. */
    public Pipeline start(LetheConfig config) throws Exception {
        return start(config, Roles.all(config));
    }

    /** Starts the given stages in this process; stopped when the run closes. */
    public Pipeline start(LetheConfig config, Roles roles) throws Exception {
        ensureSentinel();
        started = config;
        Pipeline pipeline = own(Pipeline.start(config, roles, registry, Clock.systemUTC()));
        if (roles.capture() && roles.streams()) {
            // a region's first feed invalidates its namespaces wholesale once streams is proven to write its topic (and
            // turns the upserts it passed into deletes): the scenario's readers and checks start after it
            await("every region's first feed", Duration.ofSeconds(90), pipeline::firstFeedsSettled);
        }
        return pipeline;
    }

    /**
     * For runs that start their stages themselves (one pipeline per stage, or child processes):
     * creates the sentinel table and makes {@link #quiesce} wait for {@code config}'s groups.
     */
    public void watch(LetheConfig config) throws SQLException {
        ensureSentinel();
        started = config;
    }

    void ensureSentinel() throws SQLException {
        if (!sentinelCreated) {
            sql("CREATE TABLE IF NOT EXISTS lethe_sentinel (id int PRIMARY KEY, n int NOT NULL)",
                    "INSERT INTO lethe_sentinel VALUES (1, 0) ON CONFLICT DO NOTHING");
            sentinelCreated = true;
        }
    }

    /** Closes {@code resource} when the run ends (last owned, first closed). */
    public <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    public void sql(String... statements) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    public Connection connect() throws SQLException {
        PostgresEndpoint pg = stack.postgres();
        return DriverManager.getConnection(jdbcUrl(), pg.user(), pg.password());
    }

    /** The first column of the first row, as text; null when there is no row or it is NULL. */
    public String query(String sql, Object... args) throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The region's Redis: its own server, or the stack's cluster after {@link #clusterRegion}. */
    public io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> redis(String region) {
        var cluster = clusterRegions.get(region);
        if (cluster != null) {
            return cluster.sync();
        }
        return connections.computeIfAbsent(region, r -> redisClient.connect(RedisURI.create(stack.redisUri(r)))).sync();
    }

    /** From the next {@link #config} on, {@code region}'s Redis is the stack's 3-master Redis Cluster. */
    public void clusterRegion(String region) {
        if (clusterClient == null) {
            clusterClient = io.lettuce.core.cluster.RedisClusterClient.create(stack.redisClusterUri());
            clusterClient.setOptions(io.lettuce.core.cluster.ClusterClientOptions.builder()
                    .topologyRefreshOptions(io.lettuce.core.cluster.ClusterTopologyRefreshOptions.builder()
                            .enableAllAdaptiveRefreshTriggers().build())
                    .build());
        }
        clusterRegions.put(region, clusterClient.connect());
    }

    /** {@code SHUTDOWN NOSAVE} of a region's Redis (see {@link #onServer}). */
    public void shutdownRedis(String region) {
        shutdownServer(stack.redisUri(region));
    }

    /** {@code SHUTDOWN NOSAVE} of the server at {@code uri}. */
    static void shutdownServer(String uri) {
        onServer(uri, c -> {
            try {
                c.sync().shutdown(false);
            } catch (RuntimeException expected) {
                // the server closes the connection as it goes
            }
        });
    }

    /**
     * Runs {@code action} on a connection to the one server at {@code uri} that never reconnects:
     * one that did would send a queued {@code SHUTDOWN} again to the restarted server and stop it too.
     */
    static void onServer(String uri, java.util.function.Consumer<StatefulRedisConnection<String, String>> action) {
        RedisClient client = RedisClient.create(RedisURI.create(uri));
        client.setOptions(io.lettuce.core.ClientOptions.builder().autoReconnect(false).build());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            action.accept(c);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /**
     * Waits up to {@code timeout} for {@code key} to disappear from the region's Redis.
     *
     * @return how long it took in ms, or -1 when it was still there at the timeout
     */
    public long millisUntilGone(String region, String key, Duration timeout) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        while (redis(region).exists(key) == 1) {
            if (System.nanoTime() > deadline) {
                return -1;
            }
            Thread.sleep(20);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** As a reader that loaded {@code payload} at {@code version} would leave it: a versioned entry. */
    public void fill(String region, String key, String version, String payload) {
        redis(region).hset(key, Map.of(RedisLayout.ENTRY_VERSION, version, RedisLayout.ENTRY_DATA, payload));
        filled.put(region + '\0' + key, payload);
    }

    /** {@link #fill} in every region. */
    public void fillEverywhere(String key, String version, String payload) {
        regions.forEach(r -> fill(r, key, version, payload));
    }

    /** Says how to read the database's current value of a key (empty: no row); null for keys not judged. */
    public void truth(Function<String, Optional<String>> truth) {
        this.truth = Objects.requireNonNull(truth);
    }

    /** Notes a step for the report. */
    public void done(String step, Object... args) {
        done.add(args.length == 0 ? step : step.formatted(args));
    }

    /** The steps noted so far. */
    List<String> steps() {
        return List.copyOf(done);
    }

    /**
     * Makes {@link #judge} also run the second judge ({@link SecondJudge}: {@code lethe inspect}
     * over every region of the last {@link #start}ed or {@link #watch}ed config): a confirmed
     * stale entry fails the scenario, whatever the first judge found.
     */
    public void secondJudge() {
        secondJudge = true;
    }

    /** An expectation of the scenario beyond staleness (e.g. a refusal, a metric). */
    public void expect(boolean condition, String what) {
        if (!condition) {
            failures.add(what);
        }
    }

    /**
     * Commits a change to the sentinel row and waits until its invalidation reached every region,
     * and until streams and every region committed what their topics held: everything committed
     * before is then processed.
     */
    public void quiesce() throws Exception {
        ensureSentinel();
        // the regions the running configuration has (a scenario may add one later)
        List<String> regions = started == null
                ? this.regions
                : this.regions.stream().filter(started.regions()::containsKey).toList();
        String key = p() + "sentinel:1";
        String fence = RedisLayout.fenceKey(key);
        Map<String, String> before = new LinkedHashMap<>();
        regions.forEach(r -> before.put(r, redis(r).hget(fence, RedisLayout.FENCE_COUNTER)));
        sql("UPDATE lethe_sentinel SET n = n + 1 WHERE id = 1");
        await("the sentinel's invalidation in every region", QUIESCE_TIMEOUT, () -> regions.stream()
                .allMatch(r -> !Objects.equals(before.get(r), redis(r).hget(fence, RedisLayout.FENCE_COUNTER))));
        if (started != null) {
            Drain.awaitCommitted(started, regions, QUIESCE_TIMEOUT);
        }
    }

    /** True once {@code region}'s group committed everything its topic holds now ({@link Drain#committedAllItHeld}). */
    boolean committedAllItHeld(LetheConfig config, String region, Duration timeout) throws Exception {
        return Drain.committedAllItHeld(config, region, timeout);
    }

    /** Waits for a condition the pipeline makes true, failing after {@code timeout}. */
    /**
     * Waits until each region's consumer recorded what it is fed (its topic marker: its first feed
     * or move done): {@code lethe prewarm} copies only between regions whose Redis records it.
     */
    public void awaitFed(LetheConfig config, String... regions) throws InterruptedException {
        for (String region : regions) {
            String marker = io.lethe.region.apply.TopicMove.markerKey(io.lethe.region.RegionConsumerService.groupId(config, region));
            await(region + " records what it is fed", Duration.ofSeconds(90), () -> redis(region).exists(marker) == 1);
        }
    }

    /**
     * Waits until each region's consumer recorded that it is fed under {@code config}: its topic marker records, for
     * every namespace the region receives under it, what {@code config} says its entries hold (a move's or a first
     * feed's wholesale invalidation done, the marker written last).
     */
    public void awaitFedUnder(LetheConfig config, String... regions) throws InterruptedException {
        for (String region : regions) {
            String marker = io.lethe.region.apply.TopicMove.markerKey(io.lethe.region.RegionConsumerService.groupId(config, region));
            Map<String, List<String>> want = new LinkedHashMap<>();
            for (String ns : config.receives(config.regions().get(region))) {
                want.put(ns, config.namespaces().get(ns).holdsRendered());
            }
            await(region + " records that it is fed under " + config.file(), Duration.ofSeconds(120), () -> {
                String recorded = redis(region).hget(marker, io.lethe.region.apply.TopicMove.HOLDS);
                if (recorded == null) {
                    return false;
                }
                try {
                    Map<String, List<String>> holds = HOLDS_JSON.readValue(recorded,
                            new com.fasterxml.jackson.core.type.TypeReference<Map<String, List<String>>>() {
                            });
                    return want.entrySet().stream().allMatch(e -> e.getValue().equals(holds.get(e.getKey())));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException("the topic marker " + marker + " records unreadable holds: " + recorded, e);
                }
            });
        }
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper HOLDS_JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Every entry under the run's prefix, in every region, against the database. */
    ScenarioResult judge(String name, List<String> extraFailures) throws SQLException {
        int checked = 0;
        int stale = 0;
        int lost = 0;
        List<String> details = new ArrayList<>();
        List<String> allFailures = new ArrayList<>(failures);
        allFailures.addAll(extraFailures);
        for (String region : regions) {
            var redis = redis(region);
            for (String key : keys(redis, p() + "*")) {
                if (key.startsWith(p() + "sentinel:")) {
                    continue;
                }
                Optional<String> expected = truth.apply(key);
                if (expected == null) {
                    continue;
                }
                Optional<String> cached = cachedValue(redis, key);
                if (cached == null) {
                    continue; // expired or deleted between SCAN and read
                }
                checked++;
                if (!cached.equals(expected)) {
                    stale++;
                    boolean neverInvalidated = cached.isPresent() && cached.get().equals(filled.get(region + '\0' + key));
                    if (neverInvalidated) {
                        lost++;
                    }
                    details.add("%s %s: cached %s, database %s%s".formatted(region, key, show(cached), show(expected),
                            neverInvalidated ? " (filled before the change and never invalidated)" : ""));
                }
            }
        }
        if (secondJudge && started != null) {
            try {
                for (SecondJudge.Verdict v : SecondJudge.inspect(started, regions)) {
                    done.add(v.line());
                    v.summary().confirmed().forEach(r -> details.add("inspector confirmed " + SecondJudge.describe(v.region(), r)));
                    v.summary().unconfirmed()
                            .forEach(r -> details.add("inspector could not confirm " + SecondJudge.describe(v.region(), r)));
                    v.failing()
                            .forEach(r -> allFailures.add("the inspector confirmed a stale entry: " + SecondJudge.describe(v.region(), r)));
                }
            } catch (Exception e) {
                allFailures.add("the second judge (lethe inspect) failed: " + e);
            }
        }
        allFailures.forEach(f -> details.add("failed: " + f));
        return new ScenarioResult(name, done, checked, stale, lost, allFailures, details);
    }

    /** The value an entry serves: empty for a negative entry, null when the key is gone. */
    private static Optional<String> cachedValue(io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> redis, String key) {
        String type = redis.type(key);
        switch (type) {
            case "none" :
                return null;
            case "hash" : {
                Map<String, String> entry = redis.hgetall(key);
                if ("1".equals(entry.get(RedisLayout.ENTRY_NOT_FOUND))) {
                    return Optional.empty();
                }
                return Optional.ofNullable(entry.get(RedisLayout.ENTRY_DATA)).or(() -> Optional.of(entry.toString()));
            }
            case "string" :
                return Optional.ofNullable(redis.get(key));
            default :
                return Optional.of("<" + type + ">");
        }
    }

    private static String show(Optional<String> value) {
        if (value.isEmpty()) {
            return "no row";
        }
        String s = value.get();
        return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
    }

    /** Every key matching {@code glob} (SCAN). */
    public static List<String> keys(io.lettuce.core.cluster.api.sync.RedisClusterCommands<String, String> redis, String glob) {
        List<String> out = new ArrayList<>();
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches(glob).limit(500));
            out.addAll(page.getKeys());
            cursor = page;
        } while (!cursor.isFinished());
        return out;
    }

    @Override
    public void close() {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                failures.add("closing: " + e);
            }
        }
        connections.values().forEach(StatefulRedisConnection::close);
        clusterRegions.values().forEach(io.lettuce.core.cluster.api.StatefulRedisClusterConnection::close);
        redisClient.shutdown();
        if (clusterClient != null) {
            clusterClient.shutdown();
        }
        try (Connection c = DriverManager.getConnection(stack.postgres().jdbcUrl("postgres"), stack.postgres().user(),
                stack.postgres().password()); Statement s = c.createStatement()) {
            // the run's slot holds WAL for as long as it exists
            s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + database
                    + "' AND NOT active");
        } catch (SQLException e) {
            // the slot is dropped with the stack
        }
    }
}
