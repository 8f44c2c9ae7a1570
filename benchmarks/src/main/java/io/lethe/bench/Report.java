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
    static final String DEBEZIUM_ALONE = "Debezium Embedded alone (rows/s)";
    static final String KAFKA_PRODUCE = "Kafka produce";
    static final String KAFKA_CONSUME = "Kafka consume";
    static final String EVALSHA = "pipelined EVALSHA invalidate.lua";

    /** Raw limit -> when ("before", "after" the burst) -> rate. */
    private final Map<String, Map<String, Rate>> raw = new LinkedHashMap<>();
    /** When -> Debezium alone's CPU seconds by component, and the rows it read. */
    private final Map<String, Map<String, Double>> debeziumCpu = new LinkedHashMap<>();
    private final Map<String, Long> debeziumRows = new LinkedHashMap<>();
    private long warmUpRows;
    private double warmUpSeconds;
    private List<Double> warmUpRates = List.of();
    private boolean warmUpStable;
    private int producesPerRow = 1;
    private final Map<String, Rate> applyAlone = new LinkedHashMap<>();
    private Map<String, Double> burst = Map.of();
    private Map<String, Double> batches = Map.of();
    private final StringBuilder latency = new StringBuilder();
    private final StringBuilder stages = new StringBuilder();
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

    /** A raw limit measured {@code when} ("before" or "after" the burst); raw keys ignore the record size of Kafka's. */
    void raw(String when, String what, Rate rate) {
        raw.computeIfAbsent(what, k -> new LinkedHashMap<>()).put(when, rate);
    }

    /** Debezium alone's CPU by component while it read {@code rows} rows. */
    void debeziumCpu(String when, Map<String, Double> byComponent, long rows) {
        debeziumCpu.put(when, new LinkedHashMap<>(byComponent));
        debeziumRows.put(when, rows);
    }

    void warmUp(long rows, double seconds, List<Double> rates, boolean stable) {
        this.warmUpRows = rows;
        this.warmUpSeconds = seconds;
        this.warmUpRates = List.copyOf(rates);
        this.warmUpStable = stable;
    }

    /** How many times streams produces each invalidation: once per distinct topic. */
    void producesPerRow(int produces) {
        this.producesPerRow = produces;
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

    /** Where one region's commit -> applied latency went, by the events' own stage timestamps. */
    void latencyStages(String label, String region, Map<String, Timer> timers) {
        for (Map.Entry<String, Timer> e : timers.entrySet()) {
            HistogramSnapshot s = e.getValue().takeSnapshot();
            stages.append(String.format(Locale.ROOT, "| %s | %s | %s | %.1f | %.1f | %.1f |%n", label, region, e.getKey(),
                    p(s, 0.5), p(s, 0.99), s.max(TimeUnit.MILLISECONDS)));
        }
    }

    void resources(long peakRssBytes, double cpu, double wall) {
        this.peakRss = peakRssBytes;
        this.cpuSeconds = cpu;
        this.wallSeconds = wall;
    }

    private static double perSecond(Rate r) {
        return r == null ? Double.NaN : r.perSecond();
    }

    private static double p(HistogramSnapshot s, double percentile) {
        for (ValueAtPercentile v : s.percentileValues()) {
            if (Math.abs(v.percentile() - percentile) < 1e-9) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return Double.NaN;
    }

    /** The mean of a raw limit's before and after figures: the ratios' denominator. */
    private double rawPerSecond(String prefix) {
        return raw.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                .mapToDouble(e -> e.getValue().values().stream().mapToDouble(Rate::perSecond).average().orElse(Double.NaN))
                .findFirst().orElse(Double.NaN);
    }

    private static double total(Map<String, Double> cpu) {
        return cpu.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /** Debezium alone's CPU µs per row, the mean of its runs. */
    double debeziumMicrosPerRow() {
        return debeziumCpu.entrySet().stream().mapToDouble(e -> total(e.getValue()) * 1e6 / debeziumRows.get(e.getKey()))
                .average().orElse(Double.NaN);
    }

    /** The figures users judge by, each as a ratio of its raw limit. */
    public Map<String, Double> ratios() {
        Map<String, Double> out = new LinkedHashMap<>();
        double debezium = rawPerSecond(DEBEZIUM_ALONE);
        out.put("capture / Debezium alone", burst.getOrDefault("capture", Double.NaN) / debezium);
        out.put("end-to-end / Debezium alone", burst.getOrDefault("end-to-end", Double.NaN) / debezium);
        // Streams reads each change once and writes it once per distinct topic (the public one, and
        // each region topic that is not it): its raw limit is Kafka doing exactly that much work per row
        int produces = producesPerRow;
        double kafkaPerRow = 1 / rawPerSecond(KAFKA_CONSUME) + produces / rawPerSecond(KAFKA_PRODUCE);
        out.put("streams / Kafka (1 consume + " + produces + " produce" + (produces == 1 ? "" : "s") + " per row)",
                burst.getOrDefault("streams", Double.NaN) * kafkaPerRow);
        if (!burstCpu.isEmpty()) {
            out.put("CPU per row: Debezium alone / end-to-end", debeziumMicrosPerRow() / (total(burstCpu) * 1e6 / updates));
        }
        for (String region : regions) {
            double evalsha = rawPerSecond(EVALSHA + ", " + region);
            out.put("apply " + region + " in the burst / pipelined EVALSHA", burst.getOrDefault("apply " + region, Double.NaN) / evalsha);
            Rate alone = applyAlone.get(region);
            out.put("apply " + region + " alone, from a backlog / pipelined EVALSHA",
                    (alone == null ? Double.NaN : alone.perSecond()) / evalsha);
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

        md.append("## Raw limits (same run, same servers)\n\nEach measured alone, before the burst (reading the warm-up's "
                + "changes) and after it (reading the burst's); the ratios below use the mean of the two.\n\n"
                + "| component | items | per second, before | per second, after |\n|---|---:|---:|---:|\n");
        raw.forEach((what, byWhen) -> md.append(String.format(Locale.ROOT, "| %s | %d | %.0f | %.0f |%n", what,
                byWhen.values().iterator().next().items(), perSecond(byWhen.get("before")), perSecond(byWhen.get("after")))));
        if (!debeziumCpu.isEmpty()) {
            md.append(String.format(Locale.ROOT, "%nDebezium Embedded alone used %.0f µs of CPU per row (this JVM and PostgreSQL "
                    + "from the engine's start to its stop; the mean of its runs: %s).%n", debeziumMicrosPerRow(),
                    debeziumCpu.entrySet().stream()
                            .map(e -> String.format(Locale.ROOT, "%s %.0f µs", e.getKey(),
                                    total(e.getValue()) * 1e6 / debeziumRows.get(e.getKey())))
                            .collect(java.util.stream.Collectors.joining(", "))));
        }
        if (warmUpRows > 0) {
            md.append(String.format(Locale.ROOT, "%nWarm-up: %d rows in %.0f s, in bursts of %d rows at %s rows/s end to end (%s).%n",
                    warmUpRows, warmUpSeconds, warmUpRows / Math.max(1, warmUpRates.size()), warmUpRates.stream()
                            .map(r -> String.format(Locale.ROOT, "%.0f", r)).collect(java.util.stream.Collectors.joining(", ")),
                    warmUpStable ? "the last two within 10 %" : "stopped at the limit, not yet stable"));
        }

        md.append("\n## Pipeline: a burst of ").append(updates).append(" updates in ").append(Bench.TRANSACTION_ROWS)
                .append("-row transactions\n\nEach stage's rate is rows handled per second from the first commit until the ")
                .append("stage had handled the whole burst (after the warm-up).\n\n| stage | rows/s |\n|---|---:|\n");
        burst.forEach((stage, rate) -> md.append(String.format(Locale.ROOT, "| %s | %.0f |%n", stage, rate)));
        if (!burstCpu.isEmpty()) {
            double total = burstCpu.values().stream().mapToDouble(Double::doubleValue).sum();
            md.append(String.format(Locale.ROOT, "%nWhere the burst's CPU went (JVM threads by name, servers by process): "
                    + "%.0f CPU s in %.0f s of wall time, %.2f of %d cores busy.%n%n| component | CPU s | share | CPU µs per row |%n"
                    + "|---|---:|---:|---:|%n", total, burstSeconds, total / burstSeconds, Runtime.getRuntime().availableProcessors()));
            burstCpu.forEach((component, cpu) -> md.append(String.format(Locale.ROOT, "| %s | %.1f | %.0f %% | %.0f |%n",
                    component, cpu, 100 * cpu / total, cpu * 1e6 / updates)));
            md.append(String.format(Locale.ROOT, "| **all of it** | %.1f | 100 %% | %.0f |%n", total, total * 1e6 / updates));
            if (!debeziumCpu.isEmpty()) {
                md.append(String.format(Locale.ROOT, "| *for comparison: Debezium Embedded alone, reading the same rows* | | | %.0f |%n",
                        debeziumMicrosPerRow()));
            }
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
                what.startsWith("end-to-end") ? ">= 0.45" : what.contains("alone, from a backlog") ? ">= 0.70" : "")));

        md.append("\n## Commit -> applied latency at fixed offered rates\n\n")
                .append("From the commit in PostgreSQL to the invalidation applied in each region's Redis, every event of the phase.\n\n")
                .append("| offered | rows/s offered | rows/s achieved | region | events | p50 ms | p99 ms | p99.9 ms | max ms |\n")
                .append("|---|---:|---:|---|---:|---:|---:|---:|---:|\n").append(latency);
        if (!stages.isEmpty()) {
            md.append("\nWhere it went, from the timestamps each stage writes into the event (capturedAt when capture mapped "
                    + "the row, emittedAt when streams produced the invalidation), same phases:\n\n")
                    .append("| offered | region | stage | p50 ms | p99 ms | max ms |\n|---|---|---|---:|---:|---:|\n").append(stages);
        }

        md.append(String.format(Locale.ROOT, "%n## Resources%n%nPeak RSS of this JVM and the embedded servers: %d MiB. "
                + "CPU time (JVM and servers): %.0f s over %.0f s of wall time.%n", peakRss / (1024 * 1024), cpuSeconds, wallSeconds));
        return md.toString();
    }
}
