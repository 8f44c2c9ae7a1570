package io.lethe.dev;

import io.lethe.bench.ProcessStats;
import io.lethe.dev.demo.Demo;
import io.lethe.dev.demo.Writer;
import io.lethe.dev.demo.RegionView;
import io.lethe.embedded.EmbeddedStack;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
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
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run the whole pipeline on embedded PostgreSQL, Kafka and Redis, with a writer and readers.")
public final class DemoCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    @Option(names = "--regions", defaultValue = "3", description = "regions (1-3, default ${DEFAULT-VALUE}): us-east, eu-west, ap-tokyo")
    int regions;

    @Option(names = "--duration", defaultValue = "60s", converter = DurationConverter.class, description = "how long to write, e.g. 30s, 5m (default ${DEFAULT-VALUE})")
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
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            Demo.Settings settings = new Demo.Settings("shop", "lethe_demo", "lethe", names, rate, readRate);
            try (Demo demo = Demo.start(stack, settings, registry, "127.0.0.1", httpPort, stack.workDir().resolve("lethe.yml"))) {
                System.out.printf("Pipeline up in %.1f s. Status page: %s/   metrics: %s/metrics   health: %s/health%n",
                        (System.nanoTime() - t0) / 1e9, demo.url(), demo.url(), demo.url());
                System.out.println("  config: " + demo.config().file());
                return runWorkload(demo, registry, interrupted);
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

    private int runWorkload(Demo demo, PrometheusMeterRegistry registry, CountDownLatch interrupted) throws Exception {
        long peakRss = 0;
        List<ProcessHandle> postgres = ProcessStats.postmaster(demo.stack().postgres()).stream().toList();
        double cpuStart = ProcessStats.treeCpuSeconds(postgres);
        long started = System.nanoTime();
        demo.startWorkload(registry);
        System.out.printf("Writing %.0f updates/s for %s, ramping up over the first %d s while the JVM warms up (Ctrl-C to stop early)%n",
                rate, format(duration), Writer.RAMP.toSeconds());
        long deadline = started + duration.toNanos();
        while (System.nanoTime() < deadline && !interrupted.await(1, TimeUnit.SECONDS)) {
            String now = LocalTime.now().format(TIME);
            demo.latest().forEach((region, sample) -> System.out.println(now + "  " + sample.line(region)));
            System.out.println(now + "  " + demo.shadowReads().line());
            peakRss = Math.max(peakRss, ProcessStats.treeRss(postgres));
            List<String> failures = demo.pipeline().failures();
            if (!failures.isEmpty()) {
                failures.forEach(f -> System.err.println("FAILED: " + f));
                return 1;
            }
        }
        demo.stopWorkload();
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.println("Draining: waiting for a sentinel change to reach every region ...");
        Duration drain = demo.drain(Duration.ofSeconds(120));
        System.out.println();
        System.out.printf("Summary: %d commits in %.1f s (%.0f/s), drained in %d ms%n", demo.committed(), seconds,
                demo.committed() / seconds, drain.toMillis());
        for (RegionView v : demo.views()) {
            System.out.printf(
                    "  %-9s %8d invalidations applied   commit->applied p50 %.1f ms  p99 %.1f ms  p99.9 %.1f ms  max %.1f ms   max end-to-end lag %.2f s%n",
                    v.region(), v.applied(), v.wholeMillis(0.5), v.wholeMillis(0.99), v.wholeMillis(0.999), v.maxMillis(),
                    v.maxLagSeconds());
        }
        System.out.println("  " + demo.shadowReads().line());
        System.out.printf("  memory: peak RSS %s (JVM and embedded servers; JVM alone now %s)   CPU %.1f s (JVM and servers)%n",
                ProcessStats.mib(peakRss), ProcessStats.mib(ProcessStats.selfRss()), ProcessStats.treeCpuSeconds(postgres) - cpuStart);
        return 0;
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
