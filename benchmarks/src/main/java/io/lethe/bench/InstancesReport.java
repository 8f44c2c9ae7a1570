package io.lethe.bench;

import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** {@code lethe bench --instances}: every trial, and per N the min / median / max over the rounds, as markdown. */
public final class InstancesReport {
    /**
     * One trial: N workers, one measured burst.
     *
     * @param here      CPU seconds by component of this process and the servers (capture, broker, PostgreSQL, Redis)
     * @param inWorkers CPU seconds by component of each worker
     * @param warmUpRows rows the warm-up wrote before the burst
     * @param warmUpJitShare the workers' JIT compilers' share of the workers' CPU in the warm-up's last burst
     * @param idleCpuPerSecond CPU seconds per second of every process (the harness's left out) while idle after the burst
     * @param meanApplyBatch invalidations per batch of the region consumers during the burst (every region, every worker)
     * @param loadAverage the machine's load average when the trial started
     */
    public record Trial(int run, int instances, Map<String, Double> rates, double seconds, Map<String, Double> here,
            List<Map<String, Double>> inWorkers, long warmUpRows, double warmUpJitShare,
            double idleCpuPerSecond, double meanApplyBatch, String loadAverage) {
        public Trial {
            rates = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(rates));
            here = Map.copyOf(here);
            inWorkers = inWorkers.stream().map(Map::copyOf).toList();
        }

        /** CPU seconds by component, summed over every process. */
        public Map<String, Double> cpu() {
            Map<String, Double> out = new LinkedHashMap<>();
            COMPONENTS.forEach(c -> out.put(c, 0.0));
            here.forEach((k, v) -> out.merge(k, v, Double::sum));
            inWorkers.forEach(w -> w.forEach((k, v) -> out.merge(k, v, Double::sum)));
            return out;
        }

        public double microsPerRow(long rows) {
            return total(cpu()) * 1e6 / rows;
        }

        /** Without the bench's own work in the workers (its scrapes and thread dumps). */
        public double microsPerRowWithoutHarness(long rows) {
            return (total(cpu()) - cpu().getOrDefault(CpuBreakdown.HARNESS, 0.0)) * 1e6 / rows;
        }

        /** "this process X µs, worker-1 Y µs, ..." per row. */
        String perProcess(long rows) {
            List<String> parts = new ArrayList<>();
            parts.add(String.format(Locale.ROOT, "capture, broker and servers %.0f", total(here) * 1e6 / rows));
            for (int i = 0; i < inWorkers.size(); i++) {
                parts.add(String.format(Locale.ROOT, "worker %d %.0f", i + 1, total(inWorkers.get(i)) * 1e6 / rows));
            }
            return String.join(", ", parts) + " µs";
        }
    }

    static final List<String> COMPONENTS = List.of(CpuBreakdown.CAPTURE, CpuBreakdown.STREAMS, CpuBreakdown.REGIONS,
            CpuBreakdown.BROKER, CpuBreakdown.POSTGRES, CpuBreakdown.REDIS, CpuBreakdown.GC, CpuBreakdown.JIT, CpuBreakdown.JVM_OTHER,
            CpuBreakdown.HARNESS);

    private final String command;
    private final long updates;
    private final List<String> regions;
    private final int partitions;
    private final String workerJvm;
    private final String loadAtStart;
    private String loadAtEnd = "n/a";
    private final List<Trial> trials = new ArrayList<>();

    InstancesReport(String command, long updates, List<String> regions, int partitions, String workerJvm, String loadAtStart) {
        this.command = command;
        this.updates = updates;
        this.regions = List.copyOf(regions);
        this.partitions = partitions;
        this.workerJvm = workerJvm;
        this.loadAtStart = loadAtStart;
    }

    void trial(Trial trial) {
        trials.add(trial);
    }

    void finished(String loadAverage) {
        this.loadAtEnd = loadAverage;
    }

    public List<Trial> trials() {
        return List.copyOf(trials);
    }

    private static double total(Map<String, Double> cpu) {
        return cpu.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** The Ns measured, in the order of the rounds. */
    private Set<Integer> ns() {
        return trials.stream().map(Trial::instances).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    private List<Double> of(int n, java.util.function.ToDoubleFunction<Trial> figure) {
        return trials.stream().filter(t -> t.instances() == n).mapToDouble(figure).sorted().boxed().toList();
    }

    static double median(List<Double> sorted) {
        int k = sorted.size();
        if (k == 0) {
            return Double.NaN;
        }
        return k % 2 == 1 ? sorted.get(k / 2) : (sorted.get(k / 2 - 1) + sorted.get(k / 2)) / 2;
    }

    private static String spread(List<Double> sorted, String format) {
        if (sorted.isEmpty()) {
            return "-";
        }
        return String.format(Locale.ROOT, format + " / " + format + " / " + format, sorted.get(0), median(sorted),
                sorted.get(sorted.size() - 1));
    }

    /** Median CPU µs per row of every process together, by N: the figure that must not rise with N. */
    public Map<Integer, Double> medianMicrosPerRow() {
        Map<Integer, Double> out = new LinkedHashMap<>();
        ns().forEach(n -> out.put(n, median(of(n, t -> t.microsPerRow(updates)))));
        return out;
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Lethe benchmark: N instances per stage\n\n");
        md.append("Measured ").append(Instant.now()).append(" with:\n\n```\n").append(command).append("\n```\n\n");
        md.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(ManagementFactory.getOperatingSystemMXBean().getName()).append(' ')
                .append(ManagementFactory.getOperatingSystemMXBean().getVersion()).append(", JDK ")
                .append(System.getProperty("java.version")).append("; load average (1, 5, 15 min) ").append(loadAtStart)
                .append(" at the start, ").append(loadAtEnd).append(" at the end.\n\n");
        md.append(String.format(Locale.ROOT, "Each trial: capture in the bench process (with the in-process Kafka broker; PostgreSQL "
                + "and Redis are its child processes); N worker processes (`lethe run --role streams,%s`, JVM options `%s`), so N "
                + "invalidation-streams instances in one application and N consumers in each region's group; topics with %d partitions. "
                + "After a warm-up, a burst of %d updates in %d-row transactions; its CPU is taken per process (JVM threads by name, "
                + "workers' threads from their thread dumps, servers by process) and summed over all of them. Rounds interleave the "
                + "Ns, so load from elsewhere on the machine falls on every N alike.%n",
                regions.stream().map(r -> "region:" + r).collect(Collectors.joining(",")), workerJvm, partitions, updates,
                Bench.TRANSACTION_ROWS));

        md.append("\n## Per N: min / median / max over the rounds\n\n")
                .append("| N | trials | end-to-end rows/s | CPU µs per row, all processes | without the harness | median cost / N=")
                .append(ns().isEmpty() ? "?" : ns().iterator().next())
                .append(" | idle CPU ms per second | invalidations per apply batch |\n|---:|---:|---|---|---|---:|---|---|\n");
        Map<Integer, Double> medians = medianMicrosPerRow();
        double base = medians.isEmpty() ? Double.NaN : medians.values().iterator().next();
        for (int n : ns()) {
            md.append(String.format(Locale.ROOT, "| %d | %d | %s | %s | %s | %.2f | %s | %s |%n", n, of(n, t -> 0).size(),
                    spread(of(n, t -> t.rates().get("end-to-end")), "%.0f"), spread(of(n, t -> t.microsPerRow(updates)), "%.0f"),
                    spread(of(n, t -> t.microsPerRowWithoutHarness(updates)), "%.0f"), medians.get(n) / base,
                    spread(of(n, t -> t.idleCpuPerSecond() * 1000), "%.0f"), spread(of(n, Trial::meanApplyBatch), "%.0f")));
        }

        md.append("\nCPU µs per row by component, the median over the rounds (summed over every process):\n\n| component |");
        ns().forEach(n -> md.append(" N=").append(n).append(" |"));
        md.append("\n|---|").append("---:|".repeat(ns().size())).append('\n');
        for (String component : COMPONENTS) {
            md.append("| ").append(component).append(" |");
            for (int n : ns()) {
                md.append(String.format(Locale.ROOT, " %.0f |", median(of(n, t -> t.cpu().getOrDefault(component, 0.0) * 1e6 / updates))));
            }
            md.append('\n');
        }
        md.append("| **all of it** |");
        for (int n : ns()) {
            md.append(String.format(Locale.ROOT, " %.0f |", medians.get(n)));
        }
        md.append('\n');

        md.append("\nIdle: CPU of every process (the harness's left out) over the ").append("10 s after each burst, nothing written; "
                + "capture's heartbeats and their watermarks go on. What N instances cost with nothing to do.\n");
        md.append("\n## Every trial, in the order run\n\n| round | N | load average | warm-up rows (JIT share of the last) | ");
        List<String> stages = trials.isEmpty() ? List.of() : new ArrayList<>(trials.get(0).rates().keySet());
        stages.forEach(s -> md.append(s).append(" rows/s | "));
        md.append("burst s | CPU µs per row | per process, CPU µs per row |\n|---:|---:|---|---|")
                .append("---:|".repeat(stages.size())).append("---:|---:|---|\n");
        for (Trial t : trials) {
            md.append(
                    String.format(Locale.ROOT, "| %d | %d | %s | %d (%.0f %%) | ", t.run(), t.instances(), t.loadAverage(), t.warmUpRows(),
                            100 * t.warmUpJitShare()));
            stages.forEach(s -> md.append(String.format(Locale.ROOT, "%.0f | ", t.rates().getOrDefault(s, Double.NaN))));
            md.append(String.format(Locale.ROOT, "%.1f | %.0f | %s |%n", t.seconds(), t.microsPerRow(updates), t.perProcess(updates)));
        }
        return md.toString();
    }
}
