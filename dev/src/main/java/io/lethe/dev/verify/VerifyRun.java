package io.lethe.dev.verify;

import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.dev.verify.scenario.SecondJudge;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.mapping.InvalidationMapper;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * {@code lethe verify}: the whole pipeline on the embedded stack with every stage in its own
 * process, writers and readers (some loading from a replica that applies WAL late), and faults
 * injected at seeded random times. After the faults stop and the pipeline drains, every cached
 * entry in every region must equal the database's current row, and every change must have
 * reached every region.
 */
public final class VerifyRun {
    static final Duration REPLICA_DELAY = Duration.ofSeconds(2);
    private static final Pattern COHERENCE = Pattern.compile(
            "^lethe_coherence_checks_total\\{region=\"([^\"]+)\",result=\"([a-z]+)\",window=\"([^\"]+)\"}\\s+(\\S+)$");

    /**
     * @param seed           drives the workload and the faults
     * @param duration       how long faults are injected while writers and readers run
     * @param regions        regions (each with its Redis, all with the replica gate)
     * @param workDir        servers' data and the stages' logs
     * @param faultGapSeconds mean pause between two faults
     */
    public record Options(long seed, Duration duration, List<String> regions, Path workDir, double faultGapSeconds) {
    }

    /**
     * @param staleEntries     cached entries differing from the database after the drain (must be 0)
     * @param lostInvalidations invalidations a region never received (must be 0)
     * @param details          the first few stale entries or lost invalidations, for the report
     * @param inspector        the second judge's summary, one line per region ({@link SecondJudge}: lethe inspect, no heal)
     * @param inspectorStale   entries the second judge confirmed stale (must be 0)
     */
    public record Result(long seed, Duration duration, long commits, long reads, long staleReads, double staleP50Millis,
            double staleP99Millis, double staleMaxMillis, List<String> faults, long checkedEntries,
            long scannedKeys, long staleEntries, long lostInvalidations, Map<String, String> coherence, List<String> details,
            Duration drain, List<String> inspector, long inspectorStale) {
        public boolean passed() {
            return staleEntries == 0 && lostInvalidations == 0 && inspectorStale == 0;
        }
    }

    private final Options options;
    private final PrintStream log;

    public VerifyRun(Options options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    public Result run() throws Exception {
        EmbeddedStack.Options stackOptions = EmbeddedStack.Options.defaults().withRegions(options.regions())
                .withWorkDir(options.workDir().resolve("servers-" + System.currentTimeMillis()));
        try (EmbeddedStack stack = EmbeddedStack.start(stackOptions)) {
            PostgresEndpoint replica = stack.replica(REPLICA_DELAY);
            VerifySchema.create(stack);
            Path configFile = options.workDir().resolve("lethe.yml");
            Files.writeString(configFile, VerifySchema.yaml(stack, options.regions(), replica, 0));
            LetheConfig config = ConfigLoader.load(configFile);
            List<String> roles = new ArrayList<>(List.of("capture", "streams"));
            options.regions().forEach(r -> roles.add("region:" + r));
            Map<String, String> redis = new LinkedHashMap<>();
            options.regions().forEach(r -> redis.put(r, stack.redisUri(r)));
            log.printf("verify seed %d: starting %s, each in its own process%n", options.seed(), roles);
            try (Stages stages = new Stages(configFile, options.workDir().resolve("logs"), roles)) {
                stages.startAll();
                Workload workload = new Workload(stack.postgres(), replica, redis, options.seed(), 2, 2);
                List<String> faults = new ArrayList<>();
                Duration drain;
                try (workload) {
                    workload.start();
                    inject(stack, config, stages, faults);
                    for (String role : roles) {
                        if (!stages.isRunning(role)) {
                            stages.start(role);
                        }
                        stages.awaitHealthy(role, Duration.ofSeconds(120));
                    }
                    // writers stop; readers go on filling (from the primary and the lagging replica)
                    // while the pipeline drains, so the check below also sees their last fills
                    workload.stopWriting();
                    log.printf("faults stopped after %d commits and %d reads; draining%n", workload.commits(), workload.reads());
                    drain = drain(stack, config);
                }
                log.printf("readers' caches: %s%n", workload.cacheCounts());
                Map<String, String> coherence = coherence(stages, options.regions());
                List<String> details = new ArrayList<>();
                long[] checked = {0, 0};
                long stale = staleEntries(stack, options.regions(), details, checked);
                long lost = lostInvalidations(config, details);
                // the second judge: lethe inspect over every region, knowing only lethe.yml and the database (rows from the region's replica)
                List<String> inspector = new ArrayList<>();
                long inspectorStale = 0;
                for (SecondJudge.Verdict v : SecondJudge.inspect(config, options.regions())) {
                    inspector.add(v.line());
                    v.summary().confirmed().forEach(r -> details.add("inspector confirmed " + SecondJudge.describe(v.region(), r)));
                    inspectorStale += v.failing().size();
                }
                var snapshot = workload.staleness().takeSnapshot();
                return new Result(options.seed(), options.duration(), workload.commits(), workload.reads(), workload.staleReads(),
                        percentile(snapshot, 0.5), percentile(snapshot, 0.99), snapshot.max(TimeUnit.MILLISECONDS), faults,
                        checked[0], checked[1], stale, lost, coherence, details, drain, inspector, inspectorStale);
            }
        }
    }

    private static double percentile(io.micrometer.core.instrument.distribution.HistogramSnapshot s, double p) {
        for (var v : s.percentileValues()) {
            if (Math.abs(v.percentile() - p) < 1e-9) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return 0;
    }

    /** Injects seeded random faults until the duration is over. */
    private void inject(EmbeddedStack stack, LetheConfig config, Stages stages, List<String> faults) throws Exception {
        SplittableRandom random = new SplittableRandom(options.seed());
        long end = System.nanoTime() + options.duration().toNanos();
        String[] kinds = {"kill-capture", "kill-streams", "kill-region", "pause-redis", "restart-broker", "rewind-region", "drop-slot"};
        while (true) {
            long gapMillis = (long) (options.faultGapSeconds() * 1000 * (0.5 + random.nextDouble()));
            if (System.nanoTime() + gapMillis * 1_000_000 > end) {
                long rest = end - System.nanoTime();
                if (rest > 0) {
                    TimeUnit.NANOSECONDS.sleep(rest); // the workload runs the whole duration, with or without more faults
                }
                break;
            }
            Thread.sleep(gapMillis);
            String kind = kinds[random.nextInt(kinds.length)];
            String region = options.regions().get(random.nextInt(options.regions().size()));
            long t0 = System.nanoTime();
            switch (kind) {
                case "kill-capture" -> restart(stages, "capture");
                case "kill-streams" -> restart(stages, "streams");
                case "kill-region" -> restart(stages, "region:" + region);
                case "pause-redis" -> {
                    stack.pauseRedis(region);
                    Thread.sleep(2000 + random.nextInt(4000));
                    stack.resumeRedis(region);
                }
                case "restart-broker" -> {
                    stack.stopKafka();
                    Thread.sleep(2000 + random.nextInt(3000));
                    stack.startKafka();
                }
                case "rewind-region" -> {
                    stages.kill("region:" + region);
                    rewind(config, region, 100 + random.nextInt(400));
                    stages.start("region:" + region);
                }
                default -> {
                    stages.kill("capture");
                    dropSlot(stack, config);
                    stages.start("capture");
                }
            }
            String what = kind + (kind.contains("region") || kind.equals("pause-redis") ? " " + region : "");
            faults.add(what);
            log.printf("  fault %2d: %-22s (%d ms)%n", faults.size(), what, (System.nanoTime() - t0) / 1_000_000);
        }
    }

    private static void restart(Stages stages, String role) throws InterruptedException {
        stages.kill(role);
        stages.start(role);
    }

    /** Moves a region's committed offsets back: the consumer applies those records again. */
    private static void rewind(LetheConfig config, String region, int records) throws Exception {
        String group = RegionConsumerService.groupId(config, region);
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "verify-rewind"))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("group " + group + " still has members after its consumer was killed");
                }
                Thread.sleep(200); // the killed member leaves the group after its session timeout
            }
            Map<TopicPartition, OffsetAndMetadata> committed = GroupOffsets.committed(admin, group, Duration.ofSeconds(60));
            Map<TopicPartition, OffsetAndMetadata> rewound = new HashMap<>();
            committed.forEach((tp, o) -> rewound.put(tp, new OffsetAndMetadata(Math.max(0, o.offset() - records))));
            admin.alterConsumerGroupOffsets(group, rewound).all().get();
        }
    }

    private static void dropSlot(EmbeddedStack stack, LetheConfig config) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(VerifySchema.DATABASE), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                try (ResultSet rs = s
                        .executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + config.source().slot() + "'")) {
                    if (!rs.next()) {
                        return;
                    }
                    if (!rs.getBoolean(1)) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the slot stayed active after capture was killed");
                }
                Thread.sleep(100); // the killed capture's WAL sender notices the lost connection
            }
            s.execute("SELECT pg_drop_replication_slot('" + config.source().slot() + "')");
        }
    }

    /**
     * Waits until everything committed has been applied everywhere: a sentinel change reaches every
     * region, then the streams group and every region's group committed what their topics held
     * ({@link Drain}, the scenarios' drain too).
     */
    private Duration drain(EmbeddedStack stack, LetheConfig config) throws Exception {
        long t0 = System.nanoTime();
        PostgresEndpoint pg = stack.postgres();
        long before;
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(VerifySchema.DATABASE), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")) {
                rs.next();
                before = rs.getLong(1);
            }
            s.execute("UPDATE items SET version = version + 1, updated_at = clock_timestamp() WHERE id = 1");
        }
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        RedisClient client = RedisClient.create();
        try {
            for (String region : options.regions()) {
                try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(stack.redisUri(region)))) {
                    while (true) {
                        String v = c.sync().hget(RedisLayout.fenceKey("item:1"), RedisLayout.FENCE_VERSION);
                        if (v != null && Long.parseLong(v) >= before) { // the change starts at or after the position read before it
                            break;
                        }
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("the sentinel change did not reach " + region + " within 5 minutes");
                        }
                        Thread.sleep(100);
                    }
                }
            }
        } finally {
            client.shutdown();
        }
        Drain.awaitCommitted(config, options.regions(), Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** Every cached key in every region compared with the database's current row. */
    private static long staleEntries(EmbeddedStack stack, List<String> regions, List<String> details, long[] checked) throws Exception {
        long stale = 0;
        PostgresEndpoint pg = stack.postgres();
        // checked[0]: entries compared; checked[1]: keys the scans returned
        RedisClient client = RedisClient.create();
        try (Connection db = DriverManager.getConnection(pg.jdbcUrl(VerifySchema.DATABASE), pg.user(), pg.password())) {
            for (String region : regions) {
                try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(stack.redisUri(region)))) {
                    RedisCommands<String, String> r = c.sync();
                    for (String pattern : List.of("item:*", "itemv:*", "group:*")) {
                        ScanCursor cursor = ScanCursor.INITIAL;
                        do {
                            KeyScanCursor<String> page = r.scan(cursor, ScanArgs.Builder.matches(pattern).limit(500));
                            for (String key : page.getKeys()) {
                                checked[1]++;
                                String cached = r.hget(key, RedisLayout.ENTRY_DATA);
                                if (cached == null) {
                                    continue;
                                }
                                checked[0]++;
                                String truth = truth(db, key);
                                if (!truth.equals(cached)) {
                                    stale++;
                                    if (details.size() < 20) {
                                        details.add("stale " + region + " " + key + ": cached " + cached + ", database " + truth
                                                + " (v " + r.hget(key, RedisLayout.ENTRY_VERSION) + ", fence "
                                                + r.hgetall(RedisLayout.fenceKey(key)) + ")");
                                    }
                                }
                            }
                            cursor = page;
                        } while (!((KeyScanCursor<String>) cursor).isFinished());
                    }
                }
            }
        } finally {
            client.shutdown();
        }
        return stale;
    }

    private static String truth(Connection db, String key) throws SQLException {
        if (key.startsWith("group:")) {
            return Workload.group(db, Integer.parseInt(key.substring("group:".length(), key.indexOf(":items"))));
        }
        return Workload.row(db, Integer.parseInt(key.substring(key.indexOf(':') + 1)));
    }

    /** Every invalidation the changes on lethe.changes imply, looked for on each region's topic. */
    private long lostInvalidations(LetheConfig config, List<String> details) {
        InvalidationMapper mapper = new InvalidationMapper(config, Clock.systemUTC());
        Set<String> expected = new HashSet<>();
        for (ConsumerRecord<byte[], byte[]> r : readAll(config, config.topics().changes())) {
            try {
                ChangeEvent change = EventJson.readChange(r.value());
                for (InvalidationEvent e : mapper.map(change).invalidations()) {
                    expected.add(e.id());
                }
            } catch (SchemaViolationException e) {
                // not a change event: counted by the DLQ, not here
            }
        }
        long lost = 0;
        for (String region : options.regions()) {
            Set<String> got = new HashSet<>();
            for (ConsumerRecord<byte[], byte[]> r : readAll(config, config.topics().invalidations(region))) {
                try {
                    InvalidationEvent e = EventJson.readInvalidation(r.value());
                    if (e.op() != Op.MANUAL) {
                        got.add(e.id());
                    }
                } catch (SchemaViolationException e) {
                    // ignored
                }
            }
            for (String id : expected) {
                if (!got.contains(id)) {
                    lost++;
                    if (details.size() < 40) {
                        details.add("lost in " + region + ": " + id);
                    }
                }
            }
        }
        return lost;
    }

    private static List<ConsumerRecord<byte[], byte[]>> readAll(LetheConfig config, String topic) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "verify-reader");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            while (end.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                c.poll(Duration.ofMillis(500)).forEach(out::add);
            }
        }
        return out;
    }

    /** "coherent/total" per region and window, scraped from each region consumer's prober. */
    private static Map<String, String> coherence(Stages stages, List<String> regions) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String region : regions) {
            Map<String, double[]> byWindow = new LinkedHashMap<>();
            for (String line : stages.metrics("region:" + region).split("\n")) {
                Matcher m = COHERENCE.matcher(line.trim());
                if (m.matches() && m.group(1).equals(region)) {
                    double[] t = byWindow.computeIfAbsent(m.group(3), w -> new double[2]);
                    double v = Double.parseDouble(m.group(4));
                    if (m.group(2).equals("coherent")) {
                        t[0] += v;
                    }
                    t[1] += v;
                }
            }
            byWindow.forEach((w, t) -> out.put(region + " within " + w, String.format("%.0f/%.0f coherent", t[0], t[1])));
        }
        return out;
    }
}
