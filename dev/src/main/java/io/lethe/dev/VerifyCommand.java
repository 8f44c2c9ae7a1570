package io.lethe.dev;

import io.lethe.dev.DemoCommand.DurationConverter;
import io.lethe.dev.verify.VerifyRun;
import io.lethe.dev.verify.explore.Explorer;
import io.lethe.dev.verify.scenario.ScenarioResult;
import io.lethe.dev.verify.scenario.Scenarios;
import io.lethe.embedded.EmbeddedStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lethe verify}: a seeded fault-injection run that must end with no stale entry. */
@Command(name = "verify", mixinStandardHelpOptions = true, description = "Fault-injection run on the embedded stack (every stage in its own process); exits 1 on any stale entry.")
public final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--seed", defaultValue = "1", description = "seed of the workload and the faults (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--duration", defaultValue = "5m", converter = DurationConverter.class, description = "how long to inject faults (default ${DEFAULT-VALUE})")
    Duration duration;

    @Option(names = "--regions", defaultValue = "2", description = "regions, 1-3 (default ${DEFAULT-VALUE})")
    int regions;

    @Option(names = "--fault-gap", defaultValue = "15", description = "mean seconds between faults (default ${DEFAULT-VALUE})")
    double faultGap;

    @Option(names = "--work-dir", description = "servers' data and stage logs (default: a new temporary directory)")
    Path workDir;

    @Option(names = "--scenario", description = "run adversarial scenarios instead of the seeded fault run: a name, a "
            + "comma-separated list, 'fast' (those mvn verify runs) or 'all' (the whole catalogue; 'faults' is the seeded run); "
            + "--list shows the catalogue")
    String scenario;

    @Option(names = "--scenario-setting", description = "with --scenario: a scenario's setting, name=value, repeatable: regions "
            + "(how many of the stack's regions a scenario's pipeline serves); steady knows "
            + "steady.duration (s), steady.rows, steady.read-rows, steady.writes-per-second, steady.writers, steady.reads-per-second (per region), "
            + "steady.readers (per region), steady.read-delay (s), steady.shadow-reads (1 in N hits), steady.shadow-concurrency, steady.shadow-per-second, "
            + "steady.prober-sample-every")
    java.util.Map<String, String> scenarioSettings = new java.util.LinkedHashMap<>();

    @Option(names = "--list", description = "list the scenario catalogue (with --explore: the features and types) and exit")
    boolean list;

    @Option(names = "--explore", description = "generative verification: from each seed a schema, namespaces, workload, DDL, faults and "
            + "readers; every cached key judged against keys computed in SQL; a failing seed shrunk to a reproduction")
    boolean explore;

    @Option(names = "--runs", defaultValue = "1", description = "with --explore: how many seeds, from --seed on (default ${DEFAULT-VALUE})")
    int runs;

    @Option(names = "--profile", defaultValue = "all", description = "with --explore: all, ci or baseline (default ${DEFAULT-VALUE})")
    String profile;

    @Option(names = "--with", description = "with --explore: features or families to add, comma-separated (see --explore --list)")
    String with;

    @Option(names = "--without", description = "with --explore: features or families to leave out, comma-separated")
    String without;

    @Option(names = "--types", description = "with --explore: column types, e.g. all,-times or int4,text,uuid (see --explore --list)")
    String types;

    @Option(names = "--steps", description = "with --explore: workload steps per seed (default: the profile's)")
    Integer steps;

    @Option(names = "--max-tx-rows", description = "with --explore: the largest transaction in rows (default: the profile's)")
    Integer maxTxRows;

    @Option(names = "--shrink-time", defaultValue = "10m", converter = DurationConverter.class, description = "with --explore: how long to shrink each failing seed, 0s for not at all (default ${DEFAULT-VALUE})")
    Duration shrinkTime;

    @Option(names = "--replay", description = "with --explore: run a saved reproduction (JSON) instead of generating; --runs times")
    Path replay;

    @Option(names = "--verbose", description = "with --explore: print every program and step as it runs")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        if (regions < 1 || regions > EmbeddedStack.DEFAULT_REGIONS.size()) {
            System.err.println("--regions must be 1 to " + EmbeddedStack.DEFAULT_REGIONS.size());
            return 2;
        }
        Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("lethe-verify-");
        List<String> names = EmbeddedStack.DEFAULT_REGIONS.subList(0, regions);
        if (explore) {
            return explore(dir, names);
        }
        if (list) {
            Scenarios.names().forEach(
                    n -> System.out.printf("%-18s %s%s%n", n, Scenarios.summary(n), Scenarios.fast().contains(n) ? "" : " (slow)"));
            System.out.printf("%-18s %s%n", FAULTS, "the seeded fault run (kills, pauses, restarts, rewinds) for --duration");
            return 0;
        }
        if (scenario != null) {
            return scenarios(dir, names);
        }
        return faults(dir, names) ? 0 : 1;
    }

    private int explore(Path dir, List<String> regionNames) throws Exception {
        if (list) {
            Explorer.describe(System.out);
            return 0;
        }
        Explorer.Options options;
        try {
            options = Explorer.options(seed, runs, profile, with, without, types, steps, maxTxRows, shrinkTime, dir, verbose);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        EmbeddedStack.Options stackOptions = EmbeddedStack.Options.defaults().withRegions(regionNames).withWorkDir(dir.resolve("servers"));
        try (EmbeddedStack stack = EmbeddedStack.start(stackOptions)) {
            Explorer.Summary summary = replay != null
                    ? Explorer.replay(stack, regionNames, replay, runs, dir, System.out)
                    : Explorer.explore(stack, regionNames, options, System.out);
            return summary.passed() ? 0 : 1;
        }
    }

    /** The name of the seeded fault run in the catalogue. */
    static final String FAULTS = "faults";

    private int scenarios(Path dir, List<String> regionNames) throws Exception {
        List<String> wanted = new ArrayList<>();
        boolean withFaults = false;
        for (String name : scenario.split(",")) {
            switch (name.trim()) {
                case "all" -> {
                    wanted.addAll(Scenarios.names());
                    withFaults = true;
                }
                case "fast" -> wanted.addAll(Scenarios.fast());
                case FAULTS -> withFaults = true;
                default -> {
                    if (!Scenarios.names().contains(name.trim())) {
                        System.err.println("no scenario '" + name.trim() + "'; the catalogue: all, fast, " + FAULTS + ", "
                                + String.join(", ", Scenarios.names()));
                        return 2;
                    }
                    wanted.add(name.trim());
                }
            }
        }
        List<ScenarioResult> results = new ArrayList<>();
        if (!wanted.isEmpty()) {
            EmbeddedStack.Options options = EmbeddedStack.Options.defaults().withRegions(regionNames).withWorkDir(dir.resolve("servers"));
            try (EmbeddedStack stack = EmbeddedStack.start(options)) {
                results.addAll(Scenarios.run(stack, wanted.stream().distinct().toList(), scenarioSettings, System.out));
            }
        }
        boolean faultsPassed = !withFaults || faults(dir.resolve(FAULTS), regionNames);
        Scenarios.report(results, System.out);
        if (withFaults) {
            System.out.printf("%-18s %s (see above)%n", FAULTS, faultsPassed ? "PASSED" : "FAILED");
        }
        boolean passed = faultsPassed && results.stream().allMatch(ScenarioResult::passed);
        System.out.println(passed ? "every scenario PASSED" : "some scenario FAILED");
        return passed ? 0 : 1;
    }

    private boolean faults(Path dir, List<String> names) throws Exception {
        Files.createDirectories(dir);
        VerifyRun.Result r = new VerifyRun(new VerifyRun.Options(seed, duration, names, dir, faultGap), System.out).run();
        System.out.println();
        System.out.printf("verify seed %d, %s of faults: %s%n", r.seed(), format(r.duration()), r.passed() ? "PASSED" : "FAILED");
        System.out.printf("  faults injected (%d): %s%n", r.faults().size(), String.join(", ", r.faults()));
        System.out.printf("  workload: %d commits, %d cache reads; drained in %d ms%n", r.commits(), r.reads(), r.drain().toMillis());
        System.out.printf("  staleness seen by readers during the run: %d of %d reads (%.2f%%), p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
                r.staleReads(), r.reads(), r.reads() == 0 ? 0 : 100.0 * r.staleReads() / r.reads(), r.staleP50Millis(),
                r.staleP99Millis(), r.staleMaxMillis());
        r.coherence().forEach((k, v) -> System.out.printf("  prober %s: %s%n", k, v));
        System.out.printf("  stale entries after the drain: %d (of %d cached entries checked; %d keys scanned)%n", r.staleEntries(),
                r.checkedEntries(), r.scannedKeys());
        System.out.printf("  invalidations lost: %d%n", r.lostInvalidations());
        System.out.printf("  entries the second judge (lethe inspect) confirmed stale: %d%n", r.inspectorStale());
        r.inspector().forEach(l -> System.out.println("    " + l));
        r.details().forEach(d -> System.out.println("    " + d));
        System.out.println("  logs: " + dir.resolve("logs"));
        return r.passed();
    }

    private static String format(Duration d) {
        return d.toSeconds() % 60 == 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }
}
