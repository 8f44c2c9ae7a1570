package io.lethe.bench;

import io.lethe.bench.raw.DebeziumAlone;
import io.lethe.bench.raw.EvalshaRaw;
import io.lethe.bench.raw.KafkaRoundTrip;
import io.lethe.bench.raw.PgoutputDecode;
import io.lethe.bench.raw.Rate;
import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.LetheYml;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.metrics.StreamsMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code lethe bench}: every stage of the pipeline against its raw limit, measured in the same
 * run on the same servers, and commit→applied latency at fixed offered rates.
 */
public final class Bench {
    static final int TRANSACTION_ROWS = 1000;

    /**
     * @param updates      rows updated by the burst, in 1,000-row transactions
     * @param regions      regions the pipeline applies to
     * @param rates        offered rates for the latency phases: "50%" of the measured end-to-end
     *                     maximum, or rows per second ("1000")
     * @param rateDuration how long each latency phase writes
     * @param warmUp       the warm-up's minimum length (it goes on until the rate is stable, at most six times
     *                     this long and at least 10 s)
     * @param processingGuarantee invalidation-streams' processing guarantee (at_least_once, exactly_once_v2)
     * @param command      the command line, for the report
     */
    public record Options(long updates, List<String> regions, List<String> rates, Duration rateDuration, Duration warmUp,
            String processingGuarantee, String command) {
        public Options {
            regions = List.copyOf(regions);
            rates = List.copyOf(rates);
        }
    }

    private final LetheStack stack;
    private final Options options;
    private final PrintStream log;
    private final String id = "b" + Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);

    public Bench(LetheStack stack, Options options, PrintStream log) {
        this.stack = stack;
        this.options = options;
        this.log = log;
    }

    public Report run() throws Exception {
        String database = "lethe_" + id;
        Report report = new Report(options.command(), options.updates(), options.regions());
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-rss");
            t.setDaemon(true);
            return t;
        });
        AtomicLong peakRss = new AtomicLong();
        List<ProcessHandle> postgres = ProcessStats.postmaster(stack.postgres()).stream().toList();
        sampler.scheduleAtFixedRate(() -> peakRss.accumulateAndGet(ProcessStats.treeRss(postgres), Math::max), 0, 1, TimeUnit.SECONDS);
        double cpuStart = ProcessStats.treeCpuSeconds(postgres);
        long started = System.nanoTime();
        createTable(database);
        LetheConfig config = ConfigLoader.parse("bench.yml", yaml(database, id), System::getenv);
        // streams writes each invalidation once per distinct topic: the public one, and each region topic that is not it
        java.util.Set<String> topics = new java.util.HashSet<>(List.of(config.topics().invalidations()));
        options.regions().forEach(r -> topics.add(config.topics().invalidations(r)));
        report.producesPerRow(topics.size());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        log.printf("bench %s: %d updates, regions %s%n", id, options.updates(), options.regions());
        try (Pipeline pipeline = Pipeline.start(config, Roles.all(config), registry, Clock.systemUTC())) {
            Map<String, AtomicLong> applied = new LinkedHashMap<>();
            Map<String, Timer> phaseLatency = new ConcurrentHashMap<>();
            Map<String, Timer> stageLatency = new ConcurrentHashMap<>();
            String firstRegion = options.regions().get(0);
            for (RegionConsumerService r : pipeline.regions().values()) {
                AtomicLong count = new AtomicLong();
                applied.put(r.region(), count);
                r.addListener(events -> {
                    count.addAndGet(events.size());
                    Timer t = phaseLatency.get(r.region());
                    if (t != null) {
                        long now = System.currentTimeMillis() * 1000;
                        for (InvalidationEvent e : events) {
                            t.record(Duration.ofNanos(Math.max(0, now - e.commitTs()) * 1000));
                        }
                        if (r.region().equals(firstRegion) && !stageLatency.isEmpty()) {
                            for (InvalidationEvent e : events) {
                                record(stageLatency.get(STAGE_CAPTURE), e.capturedAt() - e.commitTs());
                                record(stageLatency.get(STAGE_STREAMS), e.emittedAt() - e.capturedAt());
                                record(stageLatency.get(STAGE_REGION), now - e.emittedAt());
                            }
                        }
                    }
                });
            }
            PgoutputDecode pgoutput = new PgoutputDecode(stack.postgres(), database, "bench_raw_pgoutput_" + id, "bench_raw");
            DebeziumAlone debezium = new DebeziumAlone(stack.postgres(), database, "bench_raw_debezium_" + id, "bench_raw",
                    "public.bench_items");

            // the raw readers' slots are made before the warm-up: the "before" limits read its changes
            pgoutput.createSlot();
            debezium.createSlot();
            long warmed = warmUp(database, registry, applied, report);
            rawLimits("before", database, Math.min(options.updates(), warmed), pgoutput, debezium, postgres, report);

            pgoutput.createSlot();
            debezium.createSlot();
            log.printf("burst: %d updates in %d-row transactions%n", options.updates(), TRANSACTION_ROWS);
            Map<String, Double> cpuBefore = CpuBreakdown.snapshot(postgres);
            long burstStart = System.nanoTime();
            Map<String, Double> burst = burst(database, options.updates(), registry, applied, true);
            report.burstCpu(CpuBreakdown.between(cpuBefore, CpuBreakdown.snapshot(postgres)), (System.nanoTime() - burstStart) / 1e9);
            report.burst(burst);
            report.batches(batchSizes(registry));
            rawLimits("after", database, options.updates(), pgoutput, debezium, postgres, report);

            LetheConfig backlog = ConfigLoader.parse("bench-backlog.yml", yaml(database, id + "-backlog"), System::getenv);
            for (String region : options.regions()) {
                log.printf("apply alone: %s applies a backlog of %d invalidations%n", region, options.updates());
                // keys the namespace's template renders ("<id>:item:{id}"): a region refuses any other (trust no topic)
                report.applyAlone(region, ApplyBacklog.run(backlog, region, "item", id + ":item:",
                        options.updates(), Duration.ofMinutes(5)));
            }

            double maxRate = burst.get("end-to-end");
            for (String rate : options.rates()) {
                double rowsPerSecond = rate.endsWith("%")
                        ? maxRate * Double.parseDouble(rate.substring(0, rate.length() - 1)) / 100.0
                        : Double.parseDouble(rate);
                log.printf("latency at %.0f rows/s (%s) for %ds%n", rowsPerSecond, rate, options.rateDuration().toSeconds());
                Map<String, Timer> timers = new LinkedHashMap<>();
                SimpleMeterRegistry local = new SimpleMeterRegistry();
                for (String region : options.regions()) {
                    timers.put(region, Timer.builder("bench.latency").tag("region", region).publishPercentiles(0.5, 0.99, 0.999)
                            .distributionStatisticExpiry(Duration.ofHours(1)).distributionStatisticBufferLength(1).register(local));
                }
                Map<String, Timer> stageTimers = new LinkedHashMap<>();
                for (String stage : List.of(STAGE_CAPTURE, STAGE_STREAMS, STAGE_REGION)) {
                    stageTimers.put(stage, Timer.builder("bench.stage").tag("stage", stage).publishPercentiles(0.5, 0.99)
                            .distributionStatisticExpiry(Duration.ofHours(1)).distributionStatisticBufferLength(1).register(local));
                }
                stageLatency.putAll(stageTimers);
                phaseLatency.putAll(timers);
                double achieved = offer(database, rowsPerSecond, options.rateDuration(), applied);
                phaseLatency.clear();
                stageLatency.clear();
                report.latency(rate, rowsPerSecond, achieved, timers);
                report.latencyStages(rate, firstRegion, stageTimers);
            }
        } finally {
            sampler.shutdownNow();
        }
        report.resources(peakRss.get(), ProcessStats.treeCpuSeconds(postgres) - cpuStart, (System.nanoTime() - started) / 1e9);
        return report;
    }

    static final String STAGE_CAPTURE = "commit -> captured (walsender, Debezium)";
    static final String STAGE_STREAMS = "captured -> emitted (capture's publish, Kafka, streams)";
    static final String STAGE_REGION = "emitted -> applied (Kafka, region consumer, Redis)";

    private static void record(Timer timer, long micros) {
        if (timer != null) {
            timer.record(Duration.ofNanos(Math.max(0, micros) * 1000));
        }
    }

    /**
     * Warms the pipeline up until its rate is stable: bursts of a fifth of the measured burst (at
     * least 10,000 rows, at most the table) for at least {@link Options#warmUp()}, until two bursts
     * in a row agree within 10 % (or six times that passed). A cold JVM interprets, then compiles,
     * for tens of seconds.
     *
     * @return the rows written
     */
    private long warmUp(String database, SimpleMeterRegistry registry, Map<String, AtomicLong> applied, Report report) throws Exception {
        long chunk = Math.min(options.updates(),
                Math.max(10 * TRANSACTION_ROWS, options.updates() / 5 / TRANSACTION_ROWS * TRANSACTION_ROWS));
        long min = options.warmUp().toSeconds();
        long max = Math.max(10, 6 * min);
        long t0 = System.nanoTime();
        long rows = 0;
        List<Double> rates = new ArrayList<>();
        while (true) {
            rates.add(burst(database, chunk, registry, applied, false).get("end-to-end"));
            rows += chunk;
            double elapsed = (System.nanoTime() - t0) / 1e9;
            int n = rates.size();
            log.printf("warm-up: %d rows in %.0f s, last burst %.0f rows/s end to end%n", rows, elapsed, rates.get(n - 1));
            boolean stable = n >= 2 && Math.abs(rates.get(n - 1) - rates.get(n - 2)) <= 0.1 * rates.get(n - 2);
            if (elapsed >= min && stable || elapsed >= max) {
                report.warmUp(rows, elapsed, rates, stable);
                return rows;
            }
        }
    }

    /**
     * Every raw limit once, on the same servers: pgoutput decode and Debezium Embedded alone read
     * {@code rows} changes their slots kept (then drop the slots), Kafka and pipelined EVALSHA on
     * each region's Redis. Debezium alone's CPU (this JVM and PostgreSQL while it reads; the idle
     * pipeline's heartbeats included) is noted per row, next to the pipeline's.
     */
    private void rawLimits(String when, String database, long rows, PgoutputDecode pgoutput, DebeziumAlone debezium,
            List<ProcessHandle> postgres,
            Report report) throws Exception {
        log.printf("raw limits %s the burst, same servers: pgoutput decode, Debezium alone, Kafka, EVALSHA%n", when);
        report.raw(when, "pgoutput decode (rows/s)", pgoutput.decode(rows, Duration.ofMinutes(5)));
        pgoutput.dropSlot();
        Map<String, Double> cpuBefore = CpuBreakdown.snapshot(postgres);
        report.raw(when, Report.DEBEZIUM_ALONE, debezium.read(rows, Duration.ofMinutes(5)));
        report.debeziumCpu(when, CpuBreakdown.between(cpuBefore, CpuBreakdown.snapshot(postgres)), rows);
        debezium.dropSlot();
        int size = sampleChangeSize(database);
        KafkaRoundTrip.Result kafka = new KafkaRoundTrip(stack.kafkaBootstrapServers())
                .run(id + ".raw-" + when, 3, options.updates(), size);
        report.raw(when, Report.KAFKA_PRODUCE + ", " + size + " B records, acks=all (records/s)", kafka.produce());
        report.raw(when, Report.KAFKA_CONSUME + " (records/s)", kafka.consume());
        for (String region : options.regions()) {
            Rate evalsha = EvalshaRaw.run(stack.redisUri(region), id + ":raw-" + when + ":" + region + ":", options.updates(), 1000);
            report.raw(when, Report.EVALSHA + ", " + region + " (calls/s)", evalsha);
            report.raw(when, "pipelined invalidate-batch.lua, 128 keys a call, " + region + " (keys/s)",
                    EvalshaRaw.runBatched(stack.redisUri(region), id + ":rawb-" + when + ":" + region + ":", options.updates(), 128, 8));
        }
    }

    /** The pipeline's configuration; {@code prefix} names its topics and consumer groups. */
    private String yaml(String database, String prefix) {
        LetheYml yaml = LetheYml.on(stack, database).slot("lethe_" + id).topicPrefix(prefix)
                .streams("processing-guarantee: " + options.processingGuarantee())
                .namespaces("item:\n  table: public.bench_items\n  keys: [\"" + id + ":item:{id}\"]\n");
        for (String r : options.regions()) {
            yaml.region(r, "{ redis: \"" + stack.redisUri(r) + "\" }");
        }
        return yaml.build();
    }

    private void createTable(String database) throws SQLException {
        stack.createDatabase(database);
        try (Connection c = connect(database); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE bench_items (id int PRIMARY KEY, val int NOT NULL)");
            s.execute("INSERT INTO bench_items SELECT i, 0 FROM generate_series(1, " + options.updates() + ") i");
            s.execute("CREATE PUBLICATION bench_raw FOR TABLE bench_items");
        }
    }

    private Connection connect(String database) throws SQLException {
        PostgresEndpoint pg = stack.postgres();
        return DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
    }

    /**
     * Updates {@code rows} rows in 1,000-row transactions as fast as PostgreSQL takes them, and
     * notes when capture, streams and each region had handled all of them.
     *
     * @return rows per second of each stage, measured from the first commit
     */
    private Map<String, Double> burst(String database, long rows, SimpleMeterRegistry registry, Map<String, AtomicLong> applied,
            boolean measure) throws Exception {
        long captureBase = captured(registry);
        long streamsBase = streamed(registry);
        Stopwatch watch = new Stopwatch();
        watch.watch("capture", () -> captured(registry), captureBase + rows);
        watch.watch("streams", () -> streamed(registry), streamsBase + rows);
        for (Map.Entry<String, AtomicLong> e : applied.entrySet()) {
            long base = e.getValue().get();
            watch.watch("apply " + e.getKey(), e.getValue()::get, base + rows);
        }
        long t0 = System.nanoTime();
        long committedAt;
        try (Connection c = connect(database);
                PreparedStatement update = c.prepareStatement(
                        "UPDATE bench_items SET val = val + 1 WHERE id > ? AND id <= ?")) {
            for (long from = 0; from < rows; from += TRANSACTION_ROWS) {
                update.setLong(1, from);
                update.setLong(2, Math.min(rows, from + TRANSACTION_ROWS));
                update.executeUpdate();
            }
            committedAt = System.nanoTime();
        }
        Map<String, Long> done = watch.await(System.nanoTime() + TimeUnit.MINUTES.toNanos(10));
        Map<String, Double> rates = new LinkedHashMap<>();
        rates.put("commit", rows / ((committedAt - t0) / 1e9));
        long last = 0;
        for (Map.Entry<String, Long> e : done.entrySet()) {
            rates.put(e.getKey(), rows / ((e.getValue() - t0) / 1e9));
            last = Math.max(last, e.getValue());
        }
        rates.put("end-to-end", rows / ((last - t0) / 1e9));
        if (measure) {
            rates.forEach((k, v) -> log.printf("  %-20s %10.0f rows/s%n", k, v));
        }
        return rates;
    }

    /** Mean batch sizes of capture and of each region's applier: how much each round trip carried. */
    private static Map<String, Double> batchSizes(SimpleMeterRegistry registry) {
        Map<String, Double> out = new LinkedHashMap<>();
        var capture = registry.find(CaptureMetrics.BATCH_SIZE).summary();
        if (capture != null) {
            out.put("capture (changes per publish)", capture.mean());
        }
        registry.find(io.lethe.region.apply.RegionMeterNames.BATCH_SIZE).summaries()
                .forEach(s -> out.put("apply " + s.getId().getTag("region") + " (invalidations per batch)", s.mean()));
        return out;
    }

    private static long captured(SimpleMeterRegistry registry) {
        return (long) registry.find(CaptureMetrics.EVENTS).counters().stream().mapToDouble(Counter::count).sum();
    }

    private static long streamed(SimpleMeterRegistry registry) {
        Counter in = registry.find(StreamsMetrics.EVENTS).tag("direction", "in").counter();
        return in == null ? 0 : (long) in.count();
    }

    /** The size of one change event of the burst, as capture publishes it. */
    private int sampleChangeSize(String database) {
        SourceTable t = new SourceTable(database, "public", "bench_items");
        long now = System.currentTimeMillis() * 1000;
        ChangeEvent e = new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(123456789, t), t, Op.UPDATE,
                Map.of("id", 12345), null, Map.of("id", 12345), "123456789", 123456789, 1234L, now, now, null, null);
        return EventJson.write(e).length;
    }

    /**
     * Offers {@code rowsPerSecond} row updates (transactions of ceil(rate/1000) random rows, at
     * most 1,000 transactions a second) for {@code duration}, then waits until every region
     * applied them. Returns the rate achieved.
     */
    private double offer(String database, double rowsPerSecond, Duration duration, Map<String, AtomicLong> applied) throws Exception {
        int perTransaction = (int) Math.max(1, Math.ceil(rowsPerSecond / 1000));
        double transactionsPerSecond = rowsPerSecond / perTransaction;
        long interval = (long) (1e9 / transactionsPerSecond);
        Map<String, Long> base = new LinkedHashMap<>();
        applied.forEach((k, v) -> base.put(k, v.get()));
        SplittableRandom random = new SplittableRandom(7);
        long rows = 0;
        long t0 = System.nanoTime();
        long end = t0 + duration.toNanos();
        try (Connection c = connect(database);
                PreparedStatement update = c.prepareStatement(
                        "UPDATE bench_items SET val = val + 1 WHERE id = ANY (?)")) {
            long next = t0;
            while (System.nanoTime() < end) {
                Integer[] ids = new Integer[perTransaction];
                for (int i = 0; i < perTransaction; i++) {
                    ids[i] = 1 + random.nextInt((int) options.updates());
                }
                update.setArray(1, c.createArrayOf("int4", ids));
                rows += update.executeUpdate();
                next += interval;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
            }
        }
        double achieved = rows / ((System.nanoTime() - t0) / 1e9);
        long target = rows;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        for (Map.Entry<String, AtomicLong> e : applied.entrySet()) {
            while (e.getValue().get() < base.get(e.getKey()) + target) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("region " + e.getKey() + " did not apply the phase's updates");
                }
                Thread.sleep(10);
            }
        }
        return achieved;
    }

    /** Regions of the report, in order. */
    List<String> regions() {
        return new ArrayList<>(options.regions());
    }
}
