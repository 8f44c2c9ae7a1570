package io.lethe.dev.verify.explore;

import io.lethe.dev.verify.explore.Program.Namespace;
import io.lethe.dev.verify.explore.Program.Table;
import io.lethe.dev.verify.explore.Program.Template;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Makes a failing program small: delta debugging over its steps (removing chunks while it still
 * fails the same way, the chunks halving until single steps), then the background readers,
 * namespaces, templates, patterns, the partial region and the tables' initial rows, each kept out
 * when the failure stays. Within a time budget; each try is a whole run, and a run's interleaving
 * with the pipeline is not deterministic, so a try that passes only says "not shown this time":
 * the result is small, not provably minimal.
 *
 * <p>"The same way": the try fails with the class the original failed with most often
 * ({@link Outcome#classes}), or, when the original failed without stale entries, with any failure.
 */
final class Shrinker {
    /** Runs a program and says how it ended. */
    interface Runner {
        Outcome run(Program p) throws Exception;
    }

    private final Runner runner;
    private final PrintStream log;
    private final long deadline;
    private int tries;
    private int allowedInvalid;

    Shrinker(Runner runner, Duration budget, PrintStream log) {
        this.runner = runner;
        this.log = log;
        this.deadline = System.nanoTime() + budget.toNanos();
    }

    int tries() {
        return tries;
    }

    /** The smallest program found that still fails as {@code failed} did. */
    Program shrink(Outcome failed) {
        String target = failed.classes().entrySet().stream().max(java.util.Map.Entry.comparingByValue()).map(java.util.Map.Entry::getKey)
                .orElse(null);
        Predicate<Outcome> same = o -> o.verdict().equals("FAILED") && (target == null || o.classes().containsKey(target));
        log.printf("shrinking seed %d (%d steps) while it fails with: %s%n", failed.program().seed(), failed.program().steps().size(),
                target == null ? "any failure" : target);
        allowedInvalid = failed.invalid();
        Program p = failed.program();
        p = shrinkSteps(p, same);
        if (p.readers().background()) {
            p = keepIfFails(p, p.withReaders(new Program.Readers(false, p.readers().slowPercent(), p.readers().maxSlowMillis(),
                    p.readers().nearCache(), p.readers().tokens(), p.readers().lsnFills())), same, "without background readers");
        }
        if (!p.partialRegionNamespaces().isEmpty()) {
            p = keepIfFails(p, p.withoutPartialRegion(), same, "every region caching every namespace");
        }
        for (Namespace ns : List.copyOf(p.namespaces())) {
            if (p.namespaces().size() > 1) {
                p = keepIfFails(p, p.withoutNamespace(ns.name()), same, "without namespace " + ns.name());
            }
        }
        for (Namespace ns : List.copyOf(p.namespaces())) {
            for (Template t : ns.keys()) {
                Namespace current = p.namespace(ns.name()).orElse(null);
                if (current == null || current.keys().size() + current.patterns().size() <= 1 || !current.keys().contains(t)) {
                    continue;
                }
                List<Template> fewer = new ArrayList<>(current.keys());
                fewer.remove(t);
                if (fewer.isEmpty()) {
                    continue; // a namespace needs a key template
                }
                p = keepIfFails(p, dropReads(p.withNamespace(current.withKeys(fewer)), ns.name(), t.tag()), same,
                        "without template " + ns.name() + ":" + t.tag());
            }
            Namespace current = p.namespace(ns.name()).orElse(null);
            if (current != null && !current.patterns().isEmpty()) {
                p = keepIfFails(p, dropReads(p.withNamespace(current.withPatterns(List.of())), ns.name(), "list"), same,
                        "without the patterns of " + ns.name());
            }
        }
        for (Table t : List.copyOf(p.tables())) {
            if (t.rows() > 10) {
                p = keepIfFails(p, p.withTable(t.withRows(10)), same, "with 10 initial rows in " + t.qualified());
            }
        }
        p = shrinkSteps(p, same);
        return p;
    }

    private static Program dropReads(Program p, String namespace, String tag) {
        return p.withSteps(
                p.steps().stream().filter(s -> !(s.kind() == Step.Kind.READ && s.a().equals(namespace) && s.b().equals(tag))).toList());
    }

    /** ddmin over the steps: remove a chunk while the program still fails; halve the chunks when none can go. */
    private Program shrinkSteps(Program p, Predicate<Outcome> same) {
        List<Step> steps = p.steps();
        int n = 2;
        while (steps.size() >= 2 && timeLeft()) {
            int size = (int) Math.ceil(steps.size() / (double) n);
            boolean reduced = false;
            for (int start = 0; start < steps.size() && timeLeft(); start += size) {
                List<Step> candidate = new ArrayList<>(steps.subList(0, start));
                candidate.addAll(steps.subList(Math.min(steps.size(), start + size), steps.size()));
                if (candidate.size() == steps.size()) {
                    continue;
                }
                Program tryIt = p.withSteps(candidate);
                if (fails(tryIt, same,
                        "steps " + (start + 1) + "-" + Math.min(steps.size(), start + size) + " of " + steps.size() + " removed")) {
                    steps = candidate;
                    p = tryIt;
                    n = Math.max(n - 1, 2);
                    reduced = true;
                    break;
                }
            }
            if (!reduced) {
                if (n >= steps.size()) {
                    break;
                }
                n = Math.min(steps.size(), n * 2);
            }
        }
        return p;
    }

    private Program keepIfFails(Program current, Program candidate, Predicate<Outcome> same, String what) {
        if (!timeLeft()) {
            return current;
        }
        return fails(candidate, same, what) ? candidate : current;
    }

    private boolean fails(Program p, Predicate<Outcome> same, String what) {
        tries++;
        try {
            Outcome o = runner.run(p);
            boolean failed = o.invalid() <= allowedInvalid && same.test(o);
            log.printf("  shrink try %d (%s, %d steps): %s%n", tries, what, p.steps().size(), failed
                    ? "still fails"
                    : o.verdict()
                            + (o.invalid() > 0 ? " (" + o.invalid() + " invalid steps)" : ""));
            return failed;
        } catch (Exception e) {
            log.printf("  shrink try %d (%s): error %s%n", tries, what, e);
            return false;
        }
    }

    private boolean timeLeft() {
        return System.nanoTime() < deadline;
    }
}
