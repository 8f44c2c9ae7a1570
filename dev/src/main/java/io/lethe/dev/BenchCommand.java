package io.lethe.dev;

import io.lethe.bench.Bench;
import io.lethe.bench.InstancesBench;
import io.lethe.bench.InstancesReport;
import io.lethe.bench.ConfiguredStack;
import io.lethe.bench.Report;
import io.lethe.cli.Lethe;
import io.lethe.config.ConfigException;
import io.lethe.config.ConfigLoader;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.LetheStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lethe bench}: every stage against its raw limit, measured in one run; a markdown report. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmark every stage against its raw limit on the same servers, and latency at fixed rates.")
public final class BenchCommand implements Callable<Integer> {
    @Option(names = "--updates", defaultValue = "100000", description = "rows in the burst (default ${DEFAULT-VALUE})")
    long updates;

    @Option(names = "--regions", defaultValue = "3", description = "regions, 1-3 (default ${DEFAULT-VALUE})")
    int regions;

    @Option(names = "--rate", split = ",", defaultValue = "10%,50%,90%,1000", description = "offered rates for the latency phases: a share of the measured maximum (50%%) or rows/s (1000); "
            + "default ${DEFAULT-VALUE}")
    List<String> rates;

    @Option(names = "--rate-duration", defaultValue = "20s", converter = DemoCommand.DurationConverter.class, description = "how long each rate is offered (default ${DEFAULT-VALUE})")
    Duration rateDuration;

    @Option(names = "--warm-up", defaultValue = "30s", converter = DemoCommand.DurationConverter.class, description = "warm the pipeline up for at least this long, until two bursts in a row agree within 10%% "
            + "(default ${DEFAULT-VALUE})")
    Duration warmUp;

    @Option(names = "--processing-guarantee", defaultValue = "at_least_once", description = "invalidation-streams' guarantee: at_least_once or exactly_once_v2 (default ${DEFAULT-VALUE})")
    String processingGuarantee;

    @Option(names = "--out", defaultValue = "benchmark-report.md", description = "where to write the report (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = {"-c", "--config"}, description = "benchmark the servers of this lethe.yml instead of the embedded stack")
    Path config;

    @Option(names = "--instances", split = ",", paramLabel = "N", description = "measure N instances of every stage after capture instead, each N in turn (e.g. 1,2,3): N worker processes "
            + "run streams and every region's consumer (lethe run), capture runs here; reports rows/s and CPU per row summed "
            + "over all processes, per N; no raw limits or latency phases (--rate and --rate-duration are not used); at_least_once only")
    List<Integer> instances;

    @Option(names = "--runs", defaultValue = "3", description = "with --instances: rounds, each measuring every N once, interleaved (default ${DEFAULT-VALUE})")
    int runs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        for (String rate : rates) {
            if (!rate.matches("\\d+(\\.\\d+)?%?")) {
                spec.commandLine().getErr().println("--rate takes shares like 50% or rows per second like 1000, not '" + rate + "'");
                return 2;
            }
        }
        if (!List.of("at_least_once", "exactly_once_v2").contains(processingGuarantee)) {
            spec.commandLine().getErr().println("--processing-guarantee takes at_least_once or exactly_once_v2, not '"
                    + processingGuarantee + "'");
            return 2;
        }
        if (instances != null) {
            return instances();
        }
        List<String> command = new ArrayList<>(List.of("lethe", "bench", "--updates", Long.toString(updates), "--regions",
                Integer.toString(regions), "--rate", String.join(",", rates), "--rate-duration", rateDuration.toSeconds() + "s"));
        if (!processingGuarantee.equals("at_least_once")) {
            command.add("--processing-guarantee " + processingGuarantee);
        }
        LetheStack stack;
        if (config != null) {
            try {
                stack = new ConfiguredStack(ConfigLoader.load(config));
            } catch (ConfigException e) {
                spec.commandLine().getErr().println(e.getMessage());
                return 2;
            }
            command.add("--config " + config);
        } else {
            if (regions < 1 || regions > EmbeddedStack.DEFAULT_REGIONS.size()) {
                spec.commandLine().getErr().println("--regions must be 1 to " + EmbeddedStack.DEFAULT_REGIONS.size());
                return 2;
            }
            stack = EmbeddedStack.start(EmbeddedStack.Options.defaults().withRegions(EmbeddedStack.DEFAULT_REGIONS.subList(0, regions)));
        }
        try (stack) {
            List<String> names = stack.regions().subList(0, Math.min(regions, stack.regions().size()));
            Report report = new Bench(stack, new Bench.Options(updates, names, rates, rateDuration, warmUp, processingGuarantee,
                    String.join(" ", command)),
                    System.out).run();
            Files.writeString(out, report.markdown());
            System.out.println();
            report.ratios().forEach((k, v) -> System.out.printf("  %-36s %.2f%n", k, v));
            System.out.println("report written to " + out.toAbsolutePath());
        }
        return 0;
    }

    /** {@code --instances}: N workers per trial, on the embedded stack. */
    private int instances() throws Exception {
        if (instances.isEmpty() || instances.stream().anyMatch(n -> n < 1 || n > 8) || runs < 1) {
            spec.commandLine().getErr().println("--instances takes counts from 1 to 8 (e.g. 1,2,3) and --runs at least 1");
            return 2;
        }
        if (!processingGuarantee.equals("at_least_once")) {
            spec.commandLine().getErr().println("--instances measures at_least_once only: drop --processing-guarantee");
            return 2;
        }
        if (config != null) {
            spec.commandLine().getErr().println("--instances measures the embedded stack: its workers are started here; drop --config");
            return 2;
        }
        if (regions < 1 || regions > EmbeddedStack.DEFAULT_REGIONS.size()) {
            spec.commandLine().getErr().println("--regions must be 1 to " + EmbeddedStack.DEFAULT_REGIONS.size());
            return 2;
        }
        String command = "lethe bench --instances "
                + instances.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","))
                + " --runs " + runs + " --updates " + updates + " --regions " + regions + " --warm-up " + warmUp.toSeconds() + "s";
        Path logs = Files.createTempDirectory("lethe-bench-instances-");
        try (LetheStack stack = EmbeddedStack.start(EmbeddedStack.Options.defaults()
                .withRegions(EmbeddedStack.DEFAULT_REGIONS.subList(0, regions)))) {
            InstancesReport report = new InstancesBench(stack, new InstancesBench.Options(updates, stack.regions().subList(0, regions),
                    instances, runs, warmUp, Lethe.class.getName(), logs, command), System.out).run();
            Files.writeString(out, report.markdown());
            System.out.println();
            report.medianMicrosPerRow().forEach((n, us) -> System.out.printf("  N=%d: %.0f CPU µs per row (median)%n", n, us));
            System.out.println("report written to " + out.toAbsolutePath());
        }
        return 0;
    }
}
