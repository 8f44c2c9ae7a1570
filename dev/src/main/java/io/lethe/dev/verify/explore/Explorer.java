package io.lethe.dev.verify.explore;

import io.lethe.embedded.EmbeddedStack;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code lethe verify --explore}: generates a program per seed ({@link Generator}), runs it
 * ({@link ExploreRun}), and shrinks each failing one ({@link Shrinker}) to a reproduction printed
 * as SQL, lethe.yml and steps, and saved as JSON for {@code --replay} and the scenario catalogue.
 */
public final class Explorer {
    /**
     * @param firstSeed   the first seed; run i uses firstSeed + i
     * @param runs        how many seeds
     * @param profile     what to generate
     * @param shrinkTime  how long to shrink each failing seed (zero: not at all)
     * @param workDir     reproductions and the logs of child-process stages
     * @param verbose     print each program and its steps
     */
    public record Options(long firstSeed, int runs, Profile profile, Duration shrinkTime, Path workDir, boolean verbose) {
    }

    /**
     * What the runs found together.
     *
     * @param failedSeeds    the seeds that failed, each with its reproduction file (or null)
     * @param refusedSeeds   the seeds Lethe refused at start-up, with why
     */
    public record Summary(int seeds, long statements, long rows, int faults, long reads, long checked, long stale, long lost,
            long staleReads, int invalidSteps, Map<String, Integer> classes, Map<Long, String> failedSeeds,
            Map<Long, String> refusedSeeds, Duration took) {
        public boolean passed() {
            return failedSeeds.isEmpty();
        }
    }

    private final Options options;
    private final PrintStream log;

    Explorer(Options options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    /** The options of a command line: a named profile changed by the switches (null: unchanged). */
    public static Options options(long seed, int runs, String profile, String with, String without, String types, Integer steps,
            Integer maxTxRows, Duration shrinkTime, Path workDir, boolean verbose) {
        Profile p = Profile.named(profile);
        if (with != null) {
            p = p.with(with);
        }
        if (without != null) {
            p = p.without(without);
        }
        if (types != null) {
            p = p.withTypes(types);
        }
        if (steps != null) {
            p = p.withSteps(steps);
        }
        if (maxTxRows != null) {
            p = p.withMaxTxRows(maxTxRows);
        }
        return new Options(seed, runs, p, shrinkTime, workDir, verbose);
    }

    public static Summary explore(EmbeddedStack stack, List<String> regions, Options options, PrintStream log) {
        return new Explorer(options, log).run(stack, regions);
    }

    /** Runs one saved program (a reproduction) {@code times} times. */
    public static Summary replay(EmbeddedStack stack, List<String> regions, Path file, int times, Path workDir, PrintStream log)
            throws java.io.IOException {
        Program p = Repro.load(file);
        Explorer e = new Explorer(new Options(p.seed(), times, null, Duration.ZERO, workDir, true), log);
        return e.runPrograms(stack, regions, java.util.Collections.nCopies(times, p));
    }

    /**
     * Runs a reproduction kept on the classpath ({@code explore/<name>.json}, the scenario
     * catalogue's {@code explore-<name>} entries) once.
     */
    public static Summary regression(EmbeddedStack stack, List<String> regions, String name, Path workDir, PrintStream log)
            throws java.io.IOException {
        String resource = "/explore/" + name + ".json";
        try (java.io.InputStream in = Explorer.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new java.io.FileNotFoundException("no reproduction " + resource + " on the classpath");
            }
            Program p = Repro.load(in);
            return new Explorer(new Options(p.seed(), 1, null, Duration.ZERO, workDir, true), log).runPrograms(stack, regions, List.of(p));
        }
    }

    /** The features and types a profile can switch, for {@code --list}. */
    public static void describe(PrintStream out) {
        out.println(
                "explore profiles: " + String.join(", ", Profile.names()) + " (--profile; changed by --with/--without FEATURE|FAMILY,...)");
        String family = "";
        for (Feature f : Feature.values()) {
            if (!f.family().equals(family)) {
                family = f.family();
                out.println("  " + family + ":");
            }
            out.printf("    %-26s %s%n", f.id(), f.description());
        }
        out.println("  types (--types all,-FAMILY,ID,...):");
        for (PgType t : TypeCatalog.all()) {
            out.printf("    %-16s %-9s %s%s%n", t.id(), t.family(), t.ddl(), !t.rendered()
                    ? " (no key rendering: refused in key templates)"
                    : t.btree() ? "" : " (no btree: group columns only)");
        }
    }

    private Summary run(EmbeddedStack stack, List<String> regions) {
        List<Program> programs = new ArrayList<>();
        log.printf("explore: %d seed(s) from %d, %s, %d regions%n", options.runs(), options.firstSeed(), options.profile().switches(),
                regions.size());
        for (int i = 0; i < options.runs(); i++) {
            programs.add(Generator.generate(options.firstSeed() + i, options.profile(), regions.size()));
        }
        return runPrograms(stack, regions, programs);
    }

    private Summary runPrograms(EmbeddedStack stack, List<String> regions, List<Program> programs) {
        long t0 = System.nanoTime();
        long statements = 0;
        long rows = 0;
        int faults = 0;
        long reads = 0;
        long checked = 0;
        long stale = 0;
        long lost = 0;
        long staleReads = 0;
        int invalid = 0;
        Map<String, Integer> classes = new TreeMap<>();
        Map<Long, String> failed = new TreeMap<>();
        Map<Long, String> refused = new TreeMap<>();
        for (Program p : programs) {
            Outcome o = runOnce(stack, regions, p, options.verbose());
            statements += o.statements();
            rows += o.rows();
            faults += o.faults();
            reads += o.reads();
            checked += o.checked();
            stale += o.stale();
            lost += o.lost();
            staleReads += o.staleReads();
            invalid += o.invalid();
            o.classes().forEach((k, v) -> classes.merge(k, v, Integer::sum));
            report(o);
            if (o.verdict().equals("REFUSED")) {
                refused.put(p.seed(), o.refusal());
            } else if (!o.passed()) {
                String file = null;
                if (!options.shrinkTime().isZero()) {
                    file = shrink(stack, regions, o);
                } else {
                    log.printf("reproduce: lethe verify --explore --seed %d %s%n", p.seed(), p.profile());
                }
                failed.put(p.seed(), file);
            }
        }
        Summary s = new Summary(programs.size(), statements, rows, faults, reads, checked, stale, lost, staleReads, invalid, classes,
                failed,
                refused, Duration.ofNanos(System.nanoTime() - t0));
        summary(s);
        return s;
    }

    private Outcome runOnce(EmbeddedStack stack, List<String> regions, Program p, boolean verbose) {
        try {
            return new ExploreRun(stack, regions, p, options.workDir(), log, verbose).run();
        } catch (Exception e) {
            throw new IllegalStateException("explore seed " + p.seed() + " could not run: " + e, e);
        }
    }

    private void report(Outcome o) {
        Program p = o.program();
        log.printf("explore seed %d: %s in %.0f s: %d steps, %d statements, %d rows, %d faults, %d reads (%d failed, %d slow); "
                + "%d entries checked, %d stale, %d lost, %d stale reads; the inspector: %d keys %s, %d confirmed stale%s%n",
                p.seed(), o.verdict(), o.took().toMillis() / 1000.0, o.steps(), o.statements(), o.rows(), o.faults(), o.reads(),
                o.readErrors(),
                o.slowLoads(), o.checked(), o.stale(), o.lost(), o.staleReads(), o.inspected(), o.inspectorFindings(), o.inspectorStale(),
                o.invalid() > 0 ? ", " + o.invalid() + " invalid steps" : "");
        if (o.refusal() != null) {
            log.println("  refused: " + o.refusal());
        }
        if (o.readErrors() > 0 && o.lastReadError() != null) {
            log.println("  last read error: " + o.lastReadError());
        }
        o.classes().forEach((k, v) -> log.printf("  class %s: %d%n", k, v));
        o.failures().forEach(f -> log.println("  failure: " + f));
        o.details().stream().limit(20).forEach(d -> log.println("  " + d));
        if (!o.passed() && !options.verbose()) {
            log.printf("the program of seed %d:%n%s%n", p.seed(), Repro.text(p, o.setup(), o.yaml(), o.laterYamls()));
            o.stepLog().forEach(l -> log.println("  " + l));
        }
    }

    private String shrink(EmbeddedStack stack, List<String> regions, Outcome failed) {
        Shrinker shrinker = new Shrinker(p -> runOnce(stack, regions, p, false), options.shrinkTime(), log);
        Program small = shrinker.shrink(failed);
        Outcome again = runOnce(stack, regions, small, false);
        Path file = options.workDir().resolve("explore-seed-" + failed.program().seed() + ".json");
        try {
            Repro.save(small, file);
        } catch (java.io.IOException e) {
            log.println("could not save the reproduction: " + e);
            file = null;
        }
        log.printf("%nminimal reproduction of seed %d after %d tries (%d of %d steps; run again: %s%s):%n%s%n", failed.program().seed(),
                shrinker.tries(), small.steps().size(), failed.program().steps().size(), again.verdict(),
                again.classes().isEmpty() ? "" : " " + again.classes(), Repro.text(small, again.setup(), again.yaml(), again.laterYamls()));
        again.details().stream().limit(10).forEach(d -> log.println("  " + d));
        if (file != null) {
            log.println("saved: " + file + " (lethe verify --explore --replay " + file + ")");
        }
        return file == null ? "" : file.toString();
    }

    private void summary(Summary s) {
        log.printf("%nexplore: %d seed(s) in %.0f s: %d statements, %d rows changed, %d faults, %d reads; %d entries checked, %d stale, "
                + "%d lost, %d stale reads%s%n", s.seeds(), s.took().toMillis() / 1000.0, s.statements(), s.rows(), s.faults(), s.reads(),
                s.checked(), s.stale(), s.lost(), s.staleReads(), s.invalidSteps() > 0 ? ", " + s.invalidSteps() + " invalid steps" : "");
        s.classes().forEach((k, v) -> log.printf("  class %s: %d%n", k, v));
        s.refusedSeeds().forEach((seed, why) -> log.printf("  seed %d refused at start-up: %s%n", seed, why));
        s.failedSeeds()
                .forEach((seed, file) -> log.printf("  seed %d FAILED%s%n", seed, file == null || file.isEmpty() ? "" : ": " + file));
        log.println(s.passed() ? "explore PASSED" : "explore FAILED");
    }
}
