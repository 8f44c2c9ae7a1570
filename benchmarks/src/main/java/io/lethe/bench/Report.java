package io.lethe.bench;

import io.lethe.bench.raw.Rate;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The benchmark's figures, each next to its raw limit from the same run, rendered as markdown. */
public final class Report {
    private final String command;
    private final long updates;
    private final List<String> regions;
    private final Map<String, Rate> raw = new LinkedHashMap<>();
    private final Map<String, Rate> applyAlone = new LinkedHashMap<>();
    private Map<String, Double> burst = Map.of();
    private Map<String, Double> batches = Map.of();
    private final StringBuilder latency = new StringBuilder();
    private long peakRss;
    private double cpuSeconds;
    private double wallSeconds;
    private Map<String, Double> burstCpu = Map.of();
    private double burstSeconds;

    Report(String command, long updates, List<String> regions) {
        this.command = command;
        this.updates = updates;
        this.regions = List.copyOf(regions);
    }

    void raw(String what, Rate rate) {
        raw.put(what, rate);
    }

    /** One region consumer applying a backlog written before it started. */
    void applyAlone(String region, Rate rate) {
        applyAlone.put(region, rate);
    }

    void burst(Map<String, Double> rates) {
        this.burst = new LinkedHashMap<>(rates);
    }

    /** CPU seconds by component during the burst, which took {@code seconds} of wall time. */
    void burstCpu(Map<String, Double> byComponent, double seconds) {
        this.burstCpu = new LinkedHashMap<>(byComponent);
        this.burstSeconds = seconds;
    }

    void batches(Map<String, Double> meanSizes) {
        this.batches = new LinkedHashMap<>(meanSizes);
    }

    void latency(String label, double offered, double achieved, Map<String, Timer> timers) {
        for (Map.Entry<String, Timer> e : timers.entrySet()) {
            HistogramSnapshot s = e.getValue().takeSnapshot();
            latency.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %s | %d | %.1f | %.1f | %.1f | %.1f |%n", label, offered,
                    achieved, e.getKey(), s.count(), p(s, 0.5), p(s, 0.99), p(s, 0.999), s.max(TimeUnit.MILLISECONDS)));
        }
    }

    void resources(long peakRssBytes, double cpu, double wall) {
        this.peakRss = peakRssBytes;
        this.cpuSeconds = cpu;
        this.wallSeconds = wall;
    }

    private static double p(HistogramSnapshot s, double percentile) {
        for (ValueAtPercentile v : s.percentileValues()) {
            if (Math.abs(v.percentile() - percentile) < 1e-9) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return Double.NaN;
    }

    private double rawPerSecond(String prefix) {
        return raw.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToDouble(e -> e.getValue().perSecond())
                .findFirst().orElse(Double.NaN);
    }

    /** The figures users judge by, each as a ratio of its raw limit. */
    public Map<String, Double> ratios() {
        Map<String, Double> out = new LinkedHashMap<>();
        double debezium = rawPerSecond("Debezium Embedded alone");
        out.put("capture / Debezium alone", burst.getOrDefault("capture", Double.NaN) / debezium);
        out.put("end-to-end / Debezium alone", burst.getOrDefault("end-to-end", Double.NaN) / debezium);
        // Streams reads each change once and writes it 1 + R times (the public topic and each region's):
        // its raw limit is Kafka doing exactly that much work per row.
        double kafkaPerRow = 1 / rawPerSecond("Kafka consume") + (1 + regions.size()) / rawPerSecond("Kafka produce");
        out.put("streams / Kafka (1 consume + " + (1 + regions.size()) + " produces per row)",
                burst.getOrDefault("streams", Double.NaN) * kafkaPerRow);
        for (String region : regions) {
            double evalsha = rawPerSecond("pipelined EVALSHA invalidate.lua, " + region);
            out.put("apply " + region + " in the burst / pipelined EVALSHA", burst.getOrDefault("apply " + region, Double.NaN) / evalsha);
            Rate alone = applyAlone.get(region);
            out.put("apply " + region + " alone, from a backlog / pipelined EVALSHA", (alone == null ? Double.NaN : alone.perSecond()) / evalsha);
        }
        return out;
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Lethe benchmark\n\n");
        md.append("Measured ").append(Instant.now()).append(" with:\n\n```\n").append(command).append("\n```\n\n");
        md.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(ManagementFactory.getOperatingSystemMXBean().getName()).append(' ')
                .append(ManagementFactory.getOperatingSystemMXBean().getVersion()).append(", JDK ")
                .append(System.getProperty("java.version")).append(" (").append(System.getProperty("java.vm.name")).append(")\n\n");
        md.append("Stack: PostgreSQL 17 (embedded), Kafka 4.3.1 (KRaft, in-process), Redis 6.2 (embedded), Debezium 3.6.3, ")
                .append("Lettuce 6.8.2; every server and every stage on this one machine, in one run.\n\n");

        md.append("## Raw limits (same run, same servers)\n\n| component | items | seconds | per second |\n|---|---:|---:|---:|\n");
        raw.forEach((what, r) -> md.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.0f |%n", what, r.items(), r.seconds(), r.perSecond())));

        md.append("\n## Pipeline: a burst of ").append(updates).append(" updates in ").append(Bench.TRANSACTION_ROWS)
                .append("-row transactions\n\nEach stage's rate is rows handled per second from the first commit until the ")
                .append("stage had handled the whole burst (after a warm-up burst of 5 %).\n\n| stage | rows/s |\n|---|---:|\n");
        burst.forEach((stage, rate) -> md.append(String.format(Locale.ROOT, "| %s | %.0f |%n", stage, rate)));
        if (!burstCpu.isEmpty()) {
            double total = burstCpu.values().stream().mapToDouble(Double::doubleValue).sum();
            md.append(String.format(Locale.ROOT, "%nWhere the burst's CPU went (JVM threads by name, servers by process): "
                    + "%.0f CPU s in %.0f s of wall time, %.2f of %d cores busy.%n%n| component | CPU s | share | CPU µs per row |%n"
                    + "|---|---:|---:|---:|%n", total, burstSeconds, total / burstSeconds, Runtime.getRuntime().availableProcessors()));
            burstCpu.forEach((component, cpu) -> md.append(String.format(Locale.ROOT, "| %s | %.1f | %.0f %% | %.0f |%n",
                    component, cpu, 100 * cpu / total, cpu * 1e6 / updates)));
        }

        if (!applyAlone.isEmpty()) {
            md.append("\nApply alone: one region consumer applies a backlog of invalidations written to its topic before it ")
                    .append("started (from its first applied batch to its last):\n\n| region | invalidations | seconds | per second |\n")
                    .append("|---|---:|---:|---:|\n");
            applyAlone.forEach((region, r) -> md.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.0f |%n", region, r.items(),
                    r.seconds(), r.perSecond())));
        }

        if (!batches.isEmpty()) {
            md.append("\nMean batch sizes over the run (warm-up and burst):\n\n| batch | mean |\n|---|---:|\n");
            batches.forEach((k, v) -> md.append(String.format(Locale.ROOT, "| %s | %.0f |%n", k, v)));
        }

        md.append("\n## Ratios to the raw limits\n\n| figure | ratio | target |\n|---|---:|---|\n");
        ratios().forEach((what, ratio) -> md.append(String.format(Locale.ROOT, "| %s | %.2f | %s |%n", what, ratio,
                what.startsWith("end-to-end") ? ">= 0.80" : what.contains("alone, from a backlog") ? ">= 0.70" : "")));

        md.append("\n## Commit -> applied latency at fixed offered rates\n\n")
                .append("From the commit in PostgreSQL to the invalidation applied in each region's Redis, every event of the phase.\n\n")
                .append("| offered | rows/s offered | rows/s achieved | region | events | p50 ms | p99 ms | p99.9 ms | max ms |\n")
                .append("|---|---:|---:|---|---:|---:|---:|---:|---:|\n").append(latency);

        md.append(String.format(Locale.ROOT, "%n## Resources%n%nPeak RSS of this JVM and the embedded servers: %d MiB. "
                + "CPU time (JVM and servers): %.0f s over %.0f s of wall time.%n", peakRss / (1024 * 1024), cpuSeconds, wallSeconds));
        return md.toString();
    }
}
