package io.lethe.cli;

import io.lethe.cli.demo.DemoSetup;
import io.lethe.cli.demo.Readers;
import io.lethe.cli.demo.RegionView;
import io.lethe.cli.demo.Writer;
import io.lethe.cli.http.HttpEndpoint;
import io.lethe.cli.pipeline.Pipeline;
import io.lethe.cli.pipeline.Roles;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/**
 * {@code lethe demo}: the embedded stack and every stage in one JVM, a writer and readers, and
 * one line per second per region. Ends after {@code --duration} or on Ctrl-C with a summary.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole pipeline on embedded PostgreSQL, Kafka and Redis, with a writer and readers.")
public final class DemoCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    @Option(names = "--regions", defaultValue = "3", description = "regions (1-3, default ${DEFAULT-VALUE}): us-east, eu-west, ap-tokyo")
    int regions;

    @Option(names = "--duration", defaultValue = "60s", converter = DurationConverter.class,
            description = "how long to write, e.g. 30s, 5m (default ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--rate", defaultValue = "200", description = "committed updates per second (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--read-rate", defaultValue = "100", description = "cache reads per second per region (default ${DEFAULT-VALUE})")
    double readRate;

    @Option(names = "--http-port", defaultValue = "0", description = "status page and /metrics port (default: a free port)")
    int httpPort;

    @Option(names = "--work-dir", description = "keep the servers' data here (default: a temporary directory, deleted at the end)")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        if (regions < 1 || regions > EmbeddedStack.DEFAULT_REGIONS.size()) {
            System.err.println("--regions must be 1 to " + EmbeddedStack.DEFAULT_REGIONS.size() + ", was " + regions);
            return 2;
        }
        if (rate <= 0 || readRate <= 0) {
            System.err.println("--rate and --read-rate must be positive");
            return 2;
        }
        List<String> names = EmbeddedStack.DEFAULT_REGIONS.subList(0, regions);
        CountDownLatch interrupted = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            interrupted.countDown();
            try {
                finished.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "lethe-demo-ctrl-c");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("Starting embedded PostgreSQL, Kafka and " + regions + " Redis ...");
        EmbeddedStack.Options options = EmbeddedStack.Options.defaults().withRegions(names);
        if (workDir != null) {
            options = options.withWorkDir(workDir);
        }
        long t0 = System.nanoTime();
        try (EmbeddedStack stack = EmbeddedStack.start(options)) {
            stack.startTimesInOrder().forEach(e -> System.out.printf("  %-16s started in %5d ms%n", e.getKey(), e.getValue().toMillis()));
            System.out.println("  " + stack.describe().replace(" | ", "\n  "));
            DemoSetup.createSchema(stack);
            String yaml = DemoSetup.yaml(stack, names);
            LetheConfig config = DemoSetup.writeConfig(stack.workDir().resolve("lethe.yml"), yaml);
            System.out.println("  config: " + config.file());
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            try (Pipeline pipeline = Pipeline.start(config, Roles.all(config), registry, Clock.systemUTC());
                 HttpEndpoint http = new HttpEndpoint("127.0.0.1", httpPort, registry, pipeline::health)) {
                System.out.printf("Pipeline up in %.1f s. Metrics: %s/metrics  health: %s/health%n",
                        (System.nanoTime() - t0) / 1e9, http.url(), http.url());
                return runWorkload(stack, config, pipeline, registry, interrupted);
            }
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and waits for us
            }
        }
    }

    private int runWorkload(EmbeddedStack stack, LetheConfig config, Pipeline pipeline, PrometheusMeterRegistry registry,
                            CountDownLatch interrupted) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        List<RegionView> views = new ArrayList<>();
        pipeline.regions().values().forEach(r -> views.add(new RegionView(r, registry)));
        Map<String, String> redisByRegion = new LinkedHashMap<>();
        config.regions().forEach((name, region) -> redisByRegion.put(name, region.redisUri()));
        long peakRss = 0;
        double cpuStart = ProcessStats.cpuSeconds();
        long started = System.nanoTime();
        Writer writer;
        try (Connection writes = DriverManager.getConnection(pg.jdbcUrl(DemoSetup.DATABASE), pg.user(), pg.password());
             Readers readers = new Readers(redisByRegion, pg, readRate, registry)) {
            writer = new Writer(writes, rate);
            Thread writerThread = new Thread(writer, "demo-writer");
            writerThread.start();
            System.out.printf("Writing %.0f updates/s for %s (Ctrl-C to stop early)%n", rate, format(duration));
            long deadline = started + duration.toNanos();
            while (System.nanoTime() < deadline && !interrupted.await(1, TimeUnit.SECONDS)) {
                String now = LocalTime.now().format(TIME);
                for (RegionView view : views) {
                    System.out.println(now + "  " + view.line());
                }
                peakRss = Math.max(peakRss, ProcessStats.treeRss());
                List<String> failures = pipeline.failures();
                if (!failures.isEmpty()) {
                    failures.forEach(f -> System.err.println("FAILED: " + f));
                    writer.stop();
                    return 1;
                }
            }
            writer.stop();
            writerThread.join(10_000);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.println("Draining: waiting for a sentinel change to reach every region ...");
        Duration drain = drain(stack, config, pg);
        System.out.println();
        System.out.printf("Summary: %d commits in %.1f s (%.0f/s), drained in %d ms%n", writer.committed(), seconds,
                writer.committed() / seconds, drain.toMillis());
        for (RegionView v : views) {
            System.out.printf("  %-9s %8.0f invalidations applied   commit->applied p50 %.1f ms  p99 %.1f ms  p99.9 %.1f ms  max %.1f ms   max lag %.2f s%n",
                    v.region(), v.applied(), v.percentileMillis(0.5), v.percentileMillis(0.99), v.percentileMillis(0.999),
                    v.maxMillis(), v.maxLagSeconds());
        }
        System.out.printf("  memory: peak RSS %s (JVM and embedded servers; JVM alone now %s)   CPU %.1f s%n",
                ProcessStats.mib(peakRss), ProcessStats.mib(ProcessStats.selfRss()), ProcessStats.cpuSeconds() - cpuStart);
        return 0;
    }

    /**
     * Commits one more change to a product whose entry was planted in every region, and waits
     * until every region deleted it: everything committed before it has been applied too.
     */
    private static Duration drain(EmbeddedStack stack, LetheConfig config, PostgresEndpoint pg) throws Exception {
        long t0 = System.nanoTime();
        String key = "product:1";
        RedisClient client = RedisClient.create();
        List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
        try {
            for (String region : config.regions().keySet()) {
                StatefulRedisConnection<String, String> c = client.connect(io.lettuce.core.RedisURI.create(stack.redisUri(region)));
                c.sync().set(key, "sentinel");
                connections.add(c);
            }
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(DemoSetup.DATABASE), pg.user(), pg.password());
                 Statement s = c.createStatement()) {
                s.execute("UPDATE products SET version = version + 1 WHERE id = 1");
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            for (StatefulRedisConnection<String, String> c : connections) {
                while (c.sync().exists(key) > 0) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the sentinel change did not reach every region within 120 s");
                    }
                    Thread.sleep(20);
                }
            }
        } finally {
            connections.forEach(StatefulRedisConnection::close);
            client.shutdown();
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    private static String format(Duration d) {
        return d.toSeconds() >= 60 && d.toSeconds() % 60 == 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }

    /** Parses 30s, 5m, 1h, 500ms. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(value.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("expected a duration such as 30s, 5m or 1h, was '" + value + "'");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            };
        }
    }
}
