package io.lethe.dev.verify.scenario;

import io.lethe.embedded.EmbeddedStack;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The catalogue of adversarial scenarios behind {@code lethe verify --scenario NAME}, one per
 * class of problem that could leave a stale value behind; each is judged from Redis against the
 * database after quiescence. See docs/design.md, "How Lethe fails closed".
 */
public final class Scenarios {
    private static final Map<String, Scenario> CATALOGUE = new LinkedHashMap<>();

    static {
        for (Scenario s : List.of(new DerivedVersionScenario(), new BadVersionScenario(), new MissingOldImageScenario(),
                new OversizeKeyScenario(), new ToastScenario(), new SlowReaderScenario(), new ColumnDeleteScenario(),
                new MatchAllScenario(), new SharedPatternScenario(),
                new UpsertAfterTruncateScenario(), new UpsertBehindFenceScenario(), new PartitionedTableScenario(),
                new InheritedTableScenario(),
                new SlotRecreatedScenario(), new PublicationDriftScenario(), new TableSwapScenario(), new UnloggedPartitionScenario(),
                new DriftWhileDownScenario(), new RedisRestoreScenario(), new RedisClusterRestoreScenario(),
                new RetentionScenario(), new StreamsRetentionScenario(),
                new ReplicaGateScenario(), new PoisonScenario(), new ForgedRecordsScenario(), new ReadYourWritesScenario(),
                new PrewarmScenario(),
                new CaptureFailoverScenario(), new ScaleOutScenario(), new SteadyScenario(), RedisOutageScenario.ci(),
                RedisOutageScenario.full(),
                new HotKeyScenario(), new MirroredRegionsScenario(), new ClusterMoveScenario(), new AddRegionScenario())) {
            CATALOGUE.put(s.name(), s);
        }
        for (Scenario s : ExploreRegressionScenario.all()) {
            CATALOGUE.put(s.name(), s);
        }
    }

    private Scenarios() {
    }

    /** Every scenario's name, in catalogue order. */
    public static List<String> names() {
        return List.copyOf(CATALOGUE.keySet());
    }

    /** The names of the scenarios that run in seconds (part of {@code mvn verify}). */
    public static List<String> fast() {
        return CATALOGUE.values().stream().filter(Scenario::fast).map(Scenario::name).toList();
    }

    /** The one-line summary of a scenario. */
    public static String summary(String name) {
        return scenario(name).summary();
    }

    private static Scenario scenario(String name) {
        Scenario s = CATALOGUE.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no scenario '" + name + "'; the catalogue: all, " + String.join(", ", CATALOGUE.keySet()));
        }
        return s;
    }

    /** Runs the named scenarios one after the other on {@code stack}, each in its own scope. */
    public static List<ScenarioResult> run(EmbeddedStack stack, List<String> names, PrintStream log) {
        return run(stack, names, Map.of(), log);
    }

    /**
     * Runs the named scenarios with {@code settings} ({@code lethe verify --scenario-setting
     * name=value}, e.g. {@code steady.writes-per-second=1000}; each scenario reads the ones it knows).
     */
    public static List<ScenarioResult> run(EmbeddedStack stack, List<String> names, Map<String, String> settings, PrintStream log) {
        List<ScenarioResult> results = new ArrayList<>();
        for (String name : names) {
            Scenario s = scenario(name);
            log.printf("scenario %s: %s%n", name, s.summary());
            long t0 = System.nanoTime();
            ScenarioResult result;
            ScenarioRun run = new ScenarioRun(stack, regions(stack, settings), name);
            run.settings(settings);
            List<String> failure = new ArrayList<>();
            try {
                s.run(run);
            } catch (Exception | AssertionError e) {
                failure.add(e.getClass().getSimpleName() + ": " + e.getMessage());
                e.printStackTrace(log);
            }
            try {
                result = run.judge(name, failure);
            } catch (Exception judging) {
                failure.add("judging: " + judging);
                result = new ScenarioResult(name, run.steps(), 0, 0, 0, failure, failure.stream().map(f -> "failed: " + f).toList());
            } finally {
                run.close();
            }
            log.printf("scenario %s: %s in %.1f s%n", name, result.passed() ? "PASSED" : "FAILED", (System.nanoTime() - t0) / 1e9);
            results.add(result);
        }
        return results;
    }

    /** The stack's regions, or its first {@code regions} (the setting) of them. */
    private static List<String> regions(EmbeddedStack stack, Map<String, String> settings) {
        String n = settings.get("regions");
        if (n == null) {
            return stack.regions();
        }
        int count;
        try {
            count = Integer.parseInt(n.trim());
        } catch (NumberFormatException e) {
            count = 0;
        }
        if (count < 1 || count > stack.regions().size()) {
            throw new IllegalArgumentException("scenario setting regions must be 1 to " + stack.regions().size() + ", was '" + n + "'");
        }
        return stack.regions().subList(0, count);
    }

    /** The report: one row per scenario (what was done, stale entries after quiescence, invalidations lost), then details. */
    public static void report(List<ScenarioResult> results, PrintStream out) {
        out.printf("%n%-18s %-7s %9s %6s %5s  %s%n", "scenario", "result", "checked", "stale", "lost", "what was done");
        for (ScenarioResult r : results) {
            List<String> done = r.done().isEmpty() ? List.of("-") : r.done();
            out.printf("%-18s %-7s %9d %6d %5d  %s%n", r.name(), r.passed() ? "PASSED" : "FAILED", r.checked(), r.stale(), r.lost(),
                    done.get(0));
            for (int i = 1; i < done.size(); i++) {
                out.printf("%-18s %-7s %9s %6s %5s  %s%n", "", "", "", "", "", done.get(i));
            }
        }
        for (ScenarioResult r : results) {
            r.details().stream().limit(20).forEach(d -> out.printf("  %s: %s%n", r.name(), d));
        }
    }
}
