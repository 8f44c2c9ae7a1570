package io.lethe.cli;

import io.lethe.cli.lag.LagReport;

import io.lethe.config.LetheConfig;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lethe lag}: the lag of every region at a glance, without Grafana. */
@Command(name = "lag", mixinStandardHelpOptions = true, description = "Per region: the end-to-end lag and each stage's (capture, streams), the stage holding the backlog, "
        + "unapplied records, seconds behind of the oldest of them, p99 commit->applied (last minute), DLQ; then the key id each stage signs "
        + "its watermarks with, and what a verifier does not accept.")
public final class LagCommand implements Callable<Integer> {
    @Mixin
    ConfigFile config;

    @Option(names = "--watch", description = "refresh every 2 seconds until Ctrl-C")
    boolean watch;

    @Option(names = "--metrics", description = "/metrics URL of a process running region consumers (repeatable; "
            + "default: http.host:http.port of the config)")
    List<String> metrics = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        LetheConfig cfg = config.loadOrReport();
        if (cfg == null) {
            return ConfigFile.INVALID;
        }
        List<String> urls = metrics.isEmpty()
                ? List.of("http://" + cfg.http().host() + ":" + cfg.http().port() + "/metrics")
                : metrics;
        LagReport report = new LagReport(cfg, Clock.systemUTC());
        PrintWriter out = spec.commandLine().getOut();
        do {
            List<LagReport.Row> rows = report.compute(urls);
            LagReport.Upstream upstream = report.upstream();
            if (watch) {
                out.print("\033[H\033[2J");
            }
            if (cfg.source().sharded()) {
                // per capture shard: a shard down shows here first (its slot holds WAL, its watermark ages, every region waits on it)
                for (io.lethe.config.ShardConfig shard : cfg.source().shards().values()) {
                    Long held = upstream.retainedBySlot().get(shard.slot());
                    out.printf("capture shard %s: slot %s holds %s of WAL not yet confirmed; watermark age %s s%n", shard.name(),
                            shard.slot(),
                            held == null || held < 0 ? "-" : String.format("%.1f MiB", held / 1048576.0),
                            format(report.captureAges().getOrDefault(shard.name(), Double.NaN), "%.2f"));
                }
                out.printf("streams has %s change records unread on %s%n",
                        upstream.streamsLagRecords() < 0 ? "-" : Long.toString(upstream.streamsLagRecords()), cfg.topics().changes());
            } else {
                out.printf("slot %s holds %s of WAL not yet confirmed; streams has %s change records unread on %s%n",
                        cfg.source().slot(),
                        upstream.slotRetainedBytes() < 0 ? "-" : String.format("%.1f MiB", upstream.slotRetainedBytes() / 1048576.0),
                        upstream.streamsLagRecords() < 0 ? "-" : Long.toString(upstream.streamsLagRecords()), cfg.topics().changes());
            }
            out.printf("%-12s %9s %12s %12s %11s %10s %11s %12s %6s%n", "REGION", "E2E (s)", "CAPTURE (s)", "STREAMS (s)",
                    "BACKLOG AT", "LAG (rec)", "TOPIC (s)", "P99 1m (ms)", "DLQ");
            for (LagReport.Row r : rows) {
                out.printf("%-12s %9s %12s %12s %11s %10d %11s %12s %6d%n", r.region(), format(r.endToEndSeconds(), "%.2f"),
                        format(r.captureSeconds(), "%.2f"), format(r.streamsSeconds(), "%.2f"), r.backlogAt(), r.lagRecords(),
                        format(r.secondsBehind(), "%.2f"), format(r.p99Millis(), "%.1f"), r.dlq());
            }
            // which key each signer's newest watermarks were signed with: a stage a key rotation missed shows here by id
            report.signing().lines().forEach(out::println);
            out.flush();
            if (watch) {
                Thread.sleep(2000);
            }
        } while (watch);
        return 0;
    }

    private static String format(double value, String pattern) {
        return Double.isNaN(value) ? "-" : String.format(pattern, value);
    }
}
