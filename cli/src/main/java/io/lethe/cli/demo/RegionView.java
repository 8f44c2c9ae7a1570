package io.lethe.cli.demo;

import io.lethe.region.RegionConsumerService;
import io.lethe.region.metrics.RegionMetrics;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.util.concurrent.TimeUnit;

/** Reads one region's figures from the registry for the demo's per-second lines and summary. */
public final class RegionView {
    private final String region;
    private final MeterRegistry registry;
    private final Timer latency;
    private double lastApplied;
    private long lastNanos = System.nanoTime();
    private double maxLagSeconds;

    public RegionView(RegionConsumerService consumer, MeterRegistry registry) {
        this.region = consumer.region();
        this.registry = registry;
        this.latency = consumer.metrics().latencyTimer();
    }

    public String region() {
        return region;
    }

    /** Invalidations applied so far. */
    public double applied() {
        DistributionSummary batches = registry.find(RegionMetrics.BATCH_SIZE).tag("region", region).summary();
        return batches == null ? 0 : batches.totalAmount();
    }

    public double lagRecords() {
        var g = registry.find(RegionMetrics.LAG_RECORDS).tag("region", region).gauge();
        return g == null ? 0 : g.value();
    }

    public double lagSeconds() {
        var g = registry.find(RegionMetrics.LAG_SECONDS).tag("region", region).gauge();
        return g == null ? 0 : g.value();
    }

    /** p-th percentile (0.5, 0.99, 0.999) of commit->applied over the recent window, milliseconds. */
    public double percentileMillis(double p) {
        HistogramSnapshot snapshot = latency.takeSnapshot();
        for (ValueAtPercentile v : snapshot.percentileValues()) {
            if (Math.abs(v.percentile() - p) < 1e-9) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return Double.NaN;
    }

    public double maxMillis() {
        return latency.max(TimeUnit.MILLISECONDS);
    }

    public long count() {
        return latency.count();
    }

    /** One status line; also tracks the rate since the previous line. */
    public String line() {
        double applied = applied();
        long now = System.nanoTime();
        double rate = (applied - lastApplied) / ((now - lastNanos) / 1e9);
        lastApplied = applied;
        lastNanos = now;
        maxLagSeconds = Math.max(maxLagSeconds, lagSeconds());
        return String.format("%-9s applied/s %6.0f   p50 %6.1f ms   p99 %6.1f ms   lag %5.0f rec %5.2f s",
                region, rate, percentileMillis(0.5), percentileMillis(0.99), lagRecords(), lagSeconds());
    }

    public double maxLagSeconds() {
        return maxLagSeconds;
    }
}
