package io.lethe.dev.verify.explore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How one program's run ended.
 *
 * @param verdict     PASSED; FAILED (stale entries, stale reads, an entry the second judge confirmed stale, or an error); REFUSED (Lethe refused the
 *                    configuration or the schema at start-up: failing closed, reported, not a failure)
 * @param statements  SQL statements the writer ran
 * @param rows        rows they changed
 * @param faults      faults injected
 * @param reads       reads through cache-client (read errors apart)
 * @param checked     entries judged after quiescence
 * @param stale       entries that differ from the database
 * @param lost        stale entries holding a value a reader loaded before a change (its invalidation never landed)
 * @param staleReads  reads through cache-client after quiescence that returned something else than the database
 * @param inspected   keys the second judge ({@code lethe inspect}, no heal) scanned after the first judge (which
 *                    also fills the keys the readers read, so it judges more keys than the first)
 * @param inspectorFindings those keys by the inspector's final finding, over every region
 * @param inspectorStale entries the second judge confirmed stale (a derived key no row has apart: a suspect only)
 * @param invalid     steps the database refused (a shrunk program's steps may no longer fit its data)
 * @param classes     stale entries and reads by class (template kind, mode, version, what was wrong)
 * @param failures    errors beyond staleness
 * @param details     the first stale entries and reads, one line each
 * @param yaml        the lethe.yml the stages started with
 * @param laterYamls  the lethe.yml in force after each CONFIG step that changed it, by step number (from 1)
 */
record Outcome(Program program, String verdict, String refusal, int steps, long statements, long rows, int faults, long reads,
        long readErrors, long slowLoads, String lastReadError, int checked, int stale, int lost, int staleReads, long inspected,
        Map<String, Long> inspectorFindings, int inspectorStale, int invalid,
        Map<String, Integer> classes, List<String> failures, List<String> details, List<String> setup, String yaml,
        Map<Integer, String> laterYamls, List<String> stepLog, Duration took) {

    boolean passed() {
        return !verdict.equals("FAILED");
    }

    /** Collects an outcome while the run goes. */
    static final class Builder {
        private static final int MAX_DETAILS = 40;
        private final Program program;
        private String refusal;
        private long statements;
        private long rows;
        private int faults;
        private long reads;
        private long readErrors;
        private long slowLoads;
        private String lastReadError;
        private int checked;
        private int stale;
        private int lost;
        private int staleReads;
        private long inspected;
        private final Map<String, Long> inspectorFindings = new TreeMap<>();
        private int inspectorStale;
        private int invalid;
        private final Map<String, Integer> classes = new TreeMap<>();
        private final List<String> failures = new ArrayList<>();
        private final List<String> details = new ArrayList<>();
        private final List<String> stepLog = new ArrayList<>();
        private List<String> setup = List.of();
        private String yaml = "";
        private Map<Integer, String> laterYamls = Map.of();
        private Duration took = Duration.ZERO;

        Builder(Program program) {
            this.program = program;
        }

        void setup(List<String> sql) {
            setup = List.copyOf(sql);
        }

        /** The lethe.yml the stages start with, and the one in force after each CONFIG step that changes it (by step number). */
        void yaml(String y, Map<Integer, String> later) {
            yaml = y;
            laterYamls = java.util.Collections.unmodifiableMap(new TreeMap<>(later));
        }

        void step(String line) {
            stepLog.add(line);
        }

        synchronized void statement() {
            statements++;
        }

        void rows(long n) {
            rows += n;
        }

        void fault() {
            faults++;
        }

        void reads(long n, long errors, long slow, String lastError) {
            reads = n;
            readErrors = errors;
            slowLoads = slow;
            lastReadError = lastError;
        }

        void checked() {
            checked++;
        }

        void stale(String region, String key, String what, String kind, boolean lostInvalidation) {
            stale++;
            if (lostInvalidation) {
                lost++;
            }
            classes.merge(kind + (lostInvalidation ? " (a reader's fill never invalidated)" : ""), 1, Integer::sum);
            detail("stale " + region + " " + key + ": " + what + (lostInvalidation ? " (filled before a change, never invalidated)" : ""));
        }

        void staleRead(String line) {
            staleReads++;
            classes.merge("stale read after quiescence", 1, Integer::sum);
            detail("stale read " + line);
        }

        void inspected(long keys, Map<String, Map<io.lethe.region.inspect.Finding, Long>> byNamespace) {
            inspected += keys;
            byNamespace.values().forEach(m -> m.forEach((f, n) -> inspectorFindings.merge(f.name(), n, Long::sum)));
        }

        /**
         * A finding the second judge confirmed. {@code fails}: it fails the run; {@code firstJudge}:
         * the first judge found the same entry stale (when it did not, one of the judges is wrong).
         */
        void inspectorStale(String line, String finding, boolean fails, boolean firstJudge) {
            if (fails) {
                inspectorStale++;
            }
            classes.merge("inspector: " + finding + (fails ? "" : " (a suspect, not failing)")
                    + (firstJudge ? "" : " (the first judge found it fresh)"), 1, Integer::sum);
            detail("inspector confirmed " + line + (firstJudge ? "" : " (the first judge found it fresh)"));
        }

        void invalid(String what) {
            invalid++;
            detail("invalid step " + what);
        }

        void note(String what) {
            detail("note: " + what);
        }

        void failure(String what) {
            failures.add(what);
        }

        Builder refused(String why) {
            refusal = why;
            return this;
        }

        private void detail(String line) {
            if (details.size() < MAX_DETAILS) {
                details.add(line);
            }
        }

        Builder took(long startNanos) {
            took = Duration.ofNanos(System.nanoTime() - startNanos);
            return this;
        }

        Outcome build() {
            String verdict = refusal != null
                    ? "REFUSED"
                    : stale > 0 || staleReads > 0 || inspectorStale > 0 || !failures.isEmpty()
                            ? "FAILED"
                            : "PASSED";
            return new Outcome(program, verdict, refusal, program.steps().size(), statements, rows, faults, reads, readErrors, slowLoads,
                    lastReadError, checked, stale, lost, staleReads, inspected,
                    java.util.Collections.unmodifiableMap(new TreeMap<>(inspectorFindings)), inspectorStale, invalid,
                    java.util.Collections.unmodifiableMap(new TreeMap<>(classes)),
                    List.copyOf(failures), List.copyOf(details),
                    setup, yaml, laterYamls, List.copyOf(stepLog), took);
        }
    }
}
