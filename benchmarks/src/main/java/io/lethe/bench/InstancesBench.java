package io.lethe.bench;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.ChildJvm;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.LetheYml;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;

/**
 * {@code lethe bench --instances 1,2,3}: the pipeline with N instances of every stage after
 * capture, for each N in turn, so the cost of a row can be compared across N. Each trial has
 * topics, consumer groups and a slot of its own; capture runs in this process (with the
 * in-process broker and the embedded servers); N worker processes each run {@code lethe run --role
 * streams,region:<every region>}, so N invalidation-streams instances share one application and N
 * consumers share each region's group. After a warm-up, a burst of {@link Options#updates()} rows;
 * its CPU is taken per process (this JVM's threads and servers by name, each worker's threads
 * from its thread dump) and summed. Rounds interleave the Ns (1, 2, 3, 1, 2, 3, ...), so a
 * machine shared with other work slows every N alike.
 */
public final class InstancesBench {
    /** The workers' JVM options: the same for every N. */
    static final List<String> WORKER_JVM = List.of("-Xmx512m", "-XX:+UseSerialGC");
    /** How often the workers' /metrics are read during a burst: fine enough for bursts of seconds, cheap for the workers. */
    /** How long the idle cost is measured after each burst (nothing written; heartbeats go on). */
    private static final Duration IDLE = Duration.ofSeconds(10);
    private static final long SCRAPE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /**
     * @param updates   rows updated by each measured burst, in 1,000-row transactions
     * @param regions   regions the pipeline applies to
     * @param instances the Ns measured in each round, in order
     * @param runs      rounds
     * @param warmUp    each trial's minimum warm-up (as {@link Bench.Options#warmUp()})
     * @param runMain   the class whose {@code main} is the {@code lethe} command: workers run {@code <runMain> run ...}
     * @param logs      where each trial's config and workers' logs go
     * @param command   the command line, for the report
     */
    public record Options(long updates, List<String> regions, List<Integer> instances, int runs, Duration warmUp, String runMain,
            Path logs, String command) {
        public Options {
            regions = List.copyOf(regions);
            instances = List.copyOf(instances);
        }
    }

    private final LetheStack stack;
    private final Options options;
    private final PrintStream log;
    private final String id = "n" + Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public InstancesBench(LetheStack stack, Options options, PrintStream log) {
        this.stack = stack;
        this.options = options;
        this.log = log;
    }

    /** Topic partitions: a multiple of every N (so each instance gets as many), at least 3 as in {@code lethe bench}. */
    static int partitions(List<Integer> instances) {
        int lcm = 1;
        for (int n : instances) {
            lcm = lcm / gcd(lcm, n) * n;
        }
        return lcm * (int) Math.ceil(3.0 / lcm);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    public InstancesReport run() throws Exception {
        String database = "lethe_" + id;
        int partitions = partitions(options.instances());
        InstancesReport report = new InstancesReport(options.command(), options.updates(), options.regions(), partitions,
                String.join(" ", WORKER_JVM), loadAverage());
        createTable(database);
        List<ProcessHandle> postgres = ProcessStats.postmaster(stack.postgres()).stream().toList();
        log.printf("bench %s: N = %s instances per stage, %d rounds, %d updates a burst, regions %s, %d partitions; logs in %s%n", id,
                options.instances(), options.runs(), options.updates(), options.regions(), partitions, options.logs());
        for (int run = 1; run <= options.runs(); run++) {
            for (int n : options.instances()) {
                report.trial(trial(n, run, database, partitions, postgres));
            }
        }
        report.finished(loadAverage());
        return report;
    }

    private InstancesReport.Trial trial(int n, int run, String database, int partitions, List<ProcessHandle> postgres) throws Exception {
        String prefix = id + "-n" + n + "r" + run;
        String slot = id + "_n" + n + "r" + run;
        String yaml = yaml(database, prefix, slot, partitions);
        LetheConfig config = ConfigLoader.parse(prefix + ".yml", yaml, System::getenv);
        Path dir = Files.createDirectories(options.logs().resolve(prefix));
        Path yml = dir.resolve("lethe.yml");
        Files.writeString(yml, yaml);
        String role = "streams," + options.regions().stream().map(r -> "region:" + r).collect(Collectors.joining(","));
        log.printf("round %d, N = %d: capture here, %d worker%s running %s%n", run, n, n, n == 1 ? "" : "s", role);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        String load = loadAverage();
        List<Worker> workers = new ArrayList<>();
        try (Pipeline capture = Pipeline.start(config, new Roles(true, false, List.of()), registry, Clock.systemUTC())) {
            try {
                // all at once: a JVM's start-up takes tens of seconds on a busy machine
                ExecutorService starting = Executors.newFixedThreadPool(n);
                List<Future<Worker>> started = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    String name = "worker-" + i;
                    started.add(starting.submit(() -> Worker.start(options.runMain(), yml, dir, name, role, http)));
                }
                starting.shutdown();
                for (Future<Worker> f : started) {
                    workers.add(f.get());
                }
                List<String> groups = new ArrayList<>(List.of(config.streams().applicationId()));
                options.regions().forEach(r -> groups.add(io.lethe.region.RegionConsumerService.groupId(config, r)));
                awaitMembers(config, groups, n);
                Counters counters = new Counters(registry, workers);
                WarmUp warmed = warmUp(database, counters, workers);
                Set<Long> pids = workers.stream().map(w -> w.jvm.pid()).collect(Collectors.toSet());
                Map<String, Double> hereBefore = CpuBreakdown.snapshot(postgres, pids);
                List<Map<String, Double>> workersBefore = dumps(workers);
                double[] batchesBefore = counters.refresh(0).batches();
                long t0 = System.nanoTime();
                Map<String, Double> rates = burst(database, options.updates(), counters);
                double[] batchesAfter = counters.refresh(0).batches();
                double meanBatch = (batchesAfter[1] - batchesBefore[1]) / Math.max(1, batchesAfter[0] - batchesBefore[0]);
                double seconds = (System.nanoTime() - t0) / 1e9;
                Map<String, Double> here = CpuBreakdown.between(hereBefore, CpuBreakdown.snapshot(postgres, pids));
                List<Map<String, Double>> workersAfter = dumps(workers);
                List<Map<String, Double>> inWorkers = new ArrayList<>();
                for (int i = 0; i < workers.size(); i++) {
                    inWorkers.add(CpuBreakdown.between(workersBefore.get(i), workersAfter.get(i)));
                }
                // idle: what the N instances cost per second with nothing to do (heartbeats, watermarks, polls)
                Map<String, Double> hereIdle = CpuBreakdown.snapshot(postgres, pids);
                long idleFrom = System.nanoTime();
                Thread.sleep(IDLE.toMillis());
                double idleCpu = total(CpuBreakdown.between(hereIdle, CpuBreakdown.snapshot(postgres, pids)));
                List<Map<String, Double>> workersIdle = dumps(workers);
                double idleSeconds = (System.nanoTime() - idleFrom) / 1e9;
                for (int i = 0; i < workers.size(); i++) {
                    Map<String, Double> used = CpuBreakdown.between(workersAfter.get(i), workersIdle.get(i));
                    idleCpu += total(used) - used.getOrDefault(CpuBreakdown.HARNESS, 0.0);
                }
                InstancesReport.Trial trial = new InstancesReport.Trial(run, n, rates, seconds, here, inWorkers, warmed.rows(),
                        warmed.jitShare(), idleCpu / idleSeconds, meanBatch, load);
                log.printf("  end to end %.0f rows/s, %.0f CPU µs per row over %d processes (%s); %.0f invalidations per apply batch%n",
                        rates.get("end-to-end"), trial.microsPerRow(options.updates()), 1 + n, trial.perProcess(options.updates()),
                        meanBatch);
                log.printf("  by component, µs per row: %s%n", trial.cpu().entrySet().stream().map(e -> String.format(java.util.Locale.ROOT,
                        "%s %.0f", e.getKey(), e.getValue() * 1e6 / options.updates())).collect(Collectors.joining("; ")));
                return trial;
            } finally {
                workers.forEach(Worker::stop);
            }
        } finally {
            dropSlot(database, slot);
        }
    }

    /**
     * Bursts of a fifth of the measured burst (at least 10,000 rows, at most the table) for at least
     * {@link Options#warmUp()}, until two in a row agree within 10 % and the workers' JIT compilers
     * took at most a tenth of the workers' CPU in the last one (or six times that passed): the workers
     * start cold, and each compiles what it runs, however few rows it sees.
     *
     * @return the rows written and the workers' JIT share in the last warm-up burst
     */
    private WarmUp warmUp(String database, Counters counters, List<Worker> workers) throws Exception {
        long chunk = Math.min(options.updates(), Math.max(10L * Bench.TRANSACTION_ROWS,
                options.updates() / 5 / Bench.TRANSACTION_ROWS * Bench.TRANSACTION_ROWS));
        long min = options.warmUp().toSeconds();
        long max = Math.max(10, 6 * min);
        long t0 = System.nanoTime();
        long rows = 0;
        List<Double> rates = new ArrayList<>();
        while (true) {
            List<Map<String, Double>> before = workers.stream().map(w -> CpuBreakdown.ofWorker(w.jvm.pid())).toList();
            rates.add(burst(database, chunk, counters).get("end-to-end"));
            double jit = 0;
            double all = 0;
            for (int i = 0; i < workers.size(); i++) {
                Map<String, Double> used = CpuBreakdown.between(before.get(i), CpuBreakdown.ofWorker(workers.get(i).jvm.pid()));
                jit += used.getOrDefault(CpuBreakdown.JIT, 0.0);
                all += used.values().stream().mapToDouble(Double::doubleValue).sum();
            }
            double jitShare = all > 0 ? jit / all : 1;
            rows += chunk;
            double elapsed = (System.nanoTime() - t0) / 1e9;
            int k = rates.size();
            boolean stable = k >= 2 && Math.abs(rates.get(k - 1) - rates.get(k - 2)) <= 0.1 * rates.get(k - 2);
            if (elapsed >= min && stable && jitShare <= 0.1 || elapsed >= max) {
                log.printf("  warm-up: %d rows in %.0f s, bursts at %s rows/s; JIT %.0f %% of the workers' CPU in the last%n", rows,
                        elapsed,
                        rates.stream().map(r -> String.format(java.util.Locale.ROOT, "%.0f", r)).collect(Collectors.joining(", ")),
                        100 * jitShare);
                return new WarmUp(rows, elapsed, jitShare);
            }
        }
    }

    record WarmUp(long rows, double seconds, double jitShare) {
    }

    /**
     * Updates {@code rows} rows in 1,000-row transactions as fast as PostgreSQL takes them, and notes
     * when capture, streams (all instances) and each region (all its consumers) had handled them.
     *
     * @return rows per second of each stage, measured from the first commit
     */
    private Map<String, Double> burst(String database, long rows, Counters counters) throws Exception {
        counters.refresh(0);
        Stopwatch watch = new Stopwatch();
        watch.watch("capture", counters::captured, counters.captured() + rows);
        watch.watch("streams", () -> counters.refresh(SCRAPE_NANOS).streamed(), counters.streamed() + rows);
        for (String region : options.regions()) {
            watch.watch("apply " + region, () -> counters.refresh(SCRAPE_NANOS).applied(region), counters.applied(region) + rows);
        }
        long t0 = System.nanoTime();
        long committedAt;
        try (Connection c = connect(database);
                PreparedStatement update = c.prepareStatement(
                        "UPDATE bench_items SET val = val + 1 WHERE id > ? AND id <= ?")) {
            for (long from = 0; from < rows; from += Bench.TRANSACTION_ROWS) {
                update.setLong(1, from);
                update.setLong(2, Math.min(rows, from + Bench.TRANSACTION_ROWS));
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
        return rates;
    }

    /** Each worker's CPU by component so far. */
    private static List<Map<String, Double>> dumps(List<Worker> workers) {
        List<Map<String, Double>> out = new ArrayList<>();
        for (Worker w : workers) {
            Map<String, Double> cpu = CpuBreakdown.ofWorker(w.jvm.pid());
            if (cpu.isEmpty()) {
                throw new IllegalStateException("no thread dump of " + w.name + " (jcmd " + w.jvm.pid()
                        + " Thread.print): its CPU cannot be split by component");
            }
            out.add(cpu);
        }
        return out;
    }

    private static double total(Map<String, Double> cpu) {
        return cpu.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** Waits until each group has {@code members} members, each with partitions assigned: no rebalance left to come. */
    private void awaitMembers(LetheConfig config, List<String> groups, int members) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), KafkaRole.CLI, id + "-members"))) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (true) {
                try {
                    if (admin.describeConsumerGroups(groups).all().get().values().stream().allMatch(g -> g.members().size() == members
                            && g.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty()))) {
                        return;
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    // a group not formed yet
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "not " + members + " members with partitions in each of " + groups + " after 3 minutes");
                }
                Thread.sleep(200);
            }
        }
    }

    /** A trial's configuration: its own topics, groups, slot and publication; the bench table's one namespace. */
    private String yaml(String database, String prefix, String slot, int partitions) {
        LetheYml yaml = LetheYml.on(stack, database).slot("lethe_" + slot).topicPrefix(prefix).partitions(partitions)
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
        }
    }

    /** A trial's slot holds WAL for as long as it exists: dropped once its capture stopped. */
    private void dropSlot(String database, String slot) throws SQLException, InterruptedException {
        try (Connection c = connect(database);
                PreparedStatement drop = c.prepareStatement(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ? AND NOT active")) {
            drop.setString(1, "lethe_" + slot);
            for (int attempt = 0; attempt < 50; attempt++) {
                try (PreparedStatement active = c.prepareStatement("SELECT count(*) FROM pg_replication_slots WHERE slot_name = ?")) {
                    active.setString(1, "lethe_" + slot);
                    try (var rs = active.executeQuery()) {
                        rs.next();
                        if (rs.getLong(1) == 0) {
                            return;
                        }
                    }
                }
                drop.execute();
                Thread.sleep(100);
            }
            log.printf("  slot lethe_%s still active: drop it by hand (SELECT pg_drop_replication_slot('lethe_%s'))%n", slot, slot);
        }
    }

    private Connection connect(String database) throws SQLException {
        PostgresEndpoint pg = stack.postgres();
        return DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
    }

    /** The 1, 5 and 15 minute load averages ("n/a" where /proc is not available). */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    /** {@link #counters}' key of streams' input, and the prefix of each region's applied count. */
    static final String STREAMED = "streamed";
    static final String APPLIED = "applied:";
    /** {@link #counters}' keys of the appliers' batches (every region) and the invalidations in them. */
    static final String BATCHES = "batches";
    static final String BATCHED = "batched";

    /** Sums {@code lethe_streams_events_total{direction="in"}} and {@code lethe_region_applied_total} by region. */
    static Map<String, Double> counters(String prometheus) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : (Iterable<String>) prometheus.lines()::iterator) {
            boolean streams = line.startsWith("lethe_streams_events_total{");
            boolean applied = line.startsWith("lethe_region_applied_total{");
            boolean batches = line.startsWith("lethe_region_batch_size_count{");
            boolean batched = line.startsWith("lethe_region_batch_size_sum{");
            if (!streams && !applied && !batches && !batched) {
                continue;
            }
            int close = line.lastIndexOf('}');
            String labels = line.substring(line.indexOf('{') + 1, close);
            double value = Double.parseDouble(line.substring(close + 1).trim().split(" ")[0]);
            if (batches || batched) {
                out.merge(batches ? BATCHES : BATCHED, value, Double::sum);
            } else if (streams && labels.contains("direction=\"in\"")) {
                out.merge(STREAMED, value, Double::sum);
            } else if (applied) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("region=\"([^\"]*)\"").matcher(labels);
                if (m.find()) {
                    out.merge(APPLIED + m.group(1), value, Double::sum);
                }
            }
        }
        return out;
    }

    /** Capture's counter (this process) and the workers' streams and region counters (their /metrics, summed). */
    private static final class Counters {
        private final SimpleMeterRegistry registry;
        private final List<Worker> workers;
        private long scrapedAt;
        private long streamed;
        private Map<String, Long> applied = Map.of();
        private double batches;
        private double batched;

        Counters(SimpleMeterRegistry registry, List<Worker> workers) {
            this.registry = registry;
            this.workers = workers;
        }

        long captured() {
            return (long) registry.find(CaptureMetrics.EVENTS).counters().stream().mapToDouble(Counter::count).sum();
        }

        /** Reads every worker's /metrics again when the last read is older than {@code maxAgeNanos}. */
        Counters refresh(long maxAgeNanos) {
            long now = System.nanoTime();
            if (scrapedAt != 0 && now - scrapedAt < maxAgeNanos) {
                return this;
            }
            long s = 0;
            Map<String, Long> a = new LinkedHashMap<>();
            double b = 0;
            double bd = 0;
            for (Worker w : workers) {
                Map<String, Double> m = w.counters();
                b += m.getOrDefault(BATCHES, 0.0);
                bd += m.getOrDefault(BATCHED, 0.0);
                s += m.getOrDefault(STREAMED, 0.0).longValue();
                m.forEach((k, v) -> {
                    if (k.startsWith(APPLIED)) {
                        a.merge(k.substring(APPLIED.length()), v.longValue(), Long::sum);
                    }
                });
            }
            streamed = s;
            applied = a;
            batches = b;
            batched = bd;
            scrapedAt = now;
            return this;
        }

        long streamed() {
            return streamed;
        }

        /** The appliers' batches so far and the invalidations in them, every region. */
        double[] batches() {
            return new double[] {batches, batched};
        }

        long applied(String region) {
            return applied.getOrDefault(region, 0L);
        }
    }

    /** One {@code lethe run} process. */
    private static final class Worker {
        final String name;
        final ChildJvm jvm;
        final int port;
        final HttpClient http;

        private Worker(String name, ChildJvm jvm, int port, HttpClient http) {
            this.name = name;
            this.jvm = jvm;
            this.port = port;
            this.http = http;
        }

        /** Starts {@code lethe run --role <role>} and waits until its /health says UP. */
        static Worker start(String runMain, Path yml, Path dir, String name, String role, HttpClient http) throws Exception {
            int port = freePort();
            ChildJvm jvm = ChildJvm.start(name, runMain, List.of("run", "--config", yml.toString(), "--role", role, "--http-port",
                    Integer.toString(port)), WORKER_JVM, dir.resolve(name + ".log"));
            Worker w = new Worker(name, jvm, port, http);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (!w.healthy()) {
                if (!jvm.isAlive() || System.nanoTime() > deadline) {
                    w.stop();
                    throw new IllegalStateException(name + " did not become healthy:\n" + jvm.tail(40));
                }
                Thread.sleep(200);
            }
            return w;
        }

        private boolean healthy() {
            try {
                return get("/health").statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        private HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        /** Its streams input counter and each region's applied counter, from its Prometheus page. */
        Map<String, Double> counters() {
            try {
                HttpResponse<String> r = get("/metrics");
                if (r.statusCode() != 200) {
                    throw new IllegalStateException(name + "'s /metrics answered " + r.statusCode());
                }
                return InstancesBench.counters(r.body());
            } catch (IOException e) {
                throw new IllegalStateException(name + "'s /metrics could not be read: " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }

        /** SIGTERM (its consumers leave their groups), SIGKILL after 10 s. */
        void stop() {
            jvm.stop(Duration.ofSeconds(10));
        }

        private static int freePort() throws IOException {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                return s.getLocalPort();
            }
        }
    }
}
