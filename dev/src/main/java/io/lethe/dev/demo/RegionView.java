package io.lethe.dev.demo;

import io.lethe.region.RegionConsumerService;
import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.region.apply.RegionMetrics;
import io.lethe.streams.metrics.StreamsMetrics;
import io.lethe.schemas.InvalidationEvent;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One region's figures for the demo: invalidations applied, commit→applied latency over the
 * last few seconds (for the live lines and the status page) and over the whole run (for the
 * summary), and the end-to-end lag with the stages' watermark ages, read from the same gauges as /metrics.
 */
public final class RegionView {
    private final String region;
    private final MeterRegistry registry;
    private final Timer recent;
    private final Timer whole;
    private final AtomicLong applied = new AtomicLong();
    private long lastApplied;
    private long lastNanos = System.nanoTime();
    private double maxLagSeconds;

    public RegionView(RegionConsumerService consumer, MeterRegistry registry) {
        this.region = consumer.region();
        this.registry = registry;
        SimpleMeterRegistry local = new SimpleMeterRegistry();
        this.recent = Timer.builder("demo.recent").publishPercentiles(0.5, 0.99)
                .distributionStatisticExpiry(Duration.ofSeconds(5)).distributionStatisticBufferLength(5).register(local);
        this.whole = Timer.builder("demo.whole").publishPercentiles(0.5, 0.99, 0.999)
                .distributionStatisticExpiry(Duration.ofDays(1)).distributionStatisticBufferLength(1).register(local);
        consumer.addListener(this::applied);
    }

    private void applied(List<InvalidationEvent> events) {
        long nowMicros = System.currentTimeMillis() * 1000;
        for (InvalidationEvent e : events) {
            Duration latency = Duration.ofNanos(Math.max(0, nowMicros - e.commitTs()) * 1000);
            recent.record(latency);
            whole.record(latency);
        }
        applied.addAndGet(events.size());
    }

    public String region() {
        return region;
    }

    public long applied() {
        return applied.get();
    }

    public double lagRecords() {
        var g = registry.find(RegionMeterNames.LAG_RECORDS).tag("region", region).gauge();
        return g == null ? 0 : g.value();
    }

    public double lagSeconds() {
        var g = registry.find(RegionMeterNames.LAG_SECONDS).tag("region", region).gauge();
        return g == null ? 0 : g.value();
    }

    /** {@link RegionMetrics#END_TO_END_LAG} of this region, as /metrics shows it (NaN before the first heartbeat). */
    public double endToEndSeconds() {
        return gauge(registry.find(RegionMeterNames.END_TO_END_LAG).tag("region", region).gauge());
    }

    /** {@link CaptureMetrics#WATERMARK_AGE}, as /metrics shows it. */
    public double captureSeconds() {
        return gauge(registry.find(CaptureMetrics.WATERMARK_AGE).gauge());
    }

    /** {@link StreamsMetrics#WATERMARK_AGE}, as /metrics shows it. */
    public double streamsSeconds() {
        return gauge(registry.find(StreamsMetrics.WATERMARK_AGE).gauge());
    }

    private static double gauge(io.micrometer.core.instrument.Gauge g) {
        return g == null ? Double.NaN : g.value();
    }

    /** Percentile of the last ~5 s, milliseconds. */
    public double recentMillis(double p) {
        return percentile(recent.takeSnapshot(), p);
    }

    /**
     * Percentile of the whole run, milliseconds. Micrometer's percentiles are estimates from
     * buckets and can land a little above the largest value seen; they are capped at it.
     */
    public double wholeMillis(double p) {
        HistogramSnapshot snapshot = whole.takeSnapshot();
        return Math.min(percentile(snapshot, p), snapshot.max(TimeUnit.MILLISECONDS));
    }

    public double maxMillis() {
        return whole.max(TimeUnit.MILLISECONDS);
    }

    private static double percentile(HistogramSnapshot snapshot, double p) {
        for (ValueAtPercentile v : snapshot.percentileValues()) {
            if (Math.abs(v.percentile() - p) < 1e-9) {
                return v.value(TimeUnit.MILLISECONDS);
            }
        }
        return Double.NaN;
    }

    /** A sample: applied per second since the previous sample, recent p50/p99, lag. */
    public synchronized Sample sample() {
        long now = System.nanoTime();
        long total = applied.get();
        double rate = (total - lastApplied) / Math.max(1e-9, (now - lastNanos) / 1e9);
        lastApplied = total;
        lastNanos = now;
        double endToEnd = endToEndSeconds();
        if (!Double.isNaN(endToEnd)) {
            maxLagSeconds = Math.max(maxLagSeconds, endToEnd);
        }
        return new Sample(System.currentTimeMillis(), rate, recentMillis(0.5), recentMillis(0.99), lagRecords(), endToEnd,
                captureSeconds(), streamsSeconds(), total);
    }

    public double maxLagSeconds() {
        return maxLagSeconds;
    }

    /**
     * One point of the status page's history.
     *
     * @param endToEndSeconds {@link RegionMetrics#END_TO_END_LAG}: every stage, commit in PostgreSQL to applied
     * @param captureSeconds  {@link CaptureMetrics#WATERMARK_AGE}
     * @param streamsSeconds  {@link StreamsMetrics#WATERMARK_AGE}
     */
    public record Sample(long epochMillis, double appliedPerSecond, double p50Millis, double p99Millis, double lagRecords,
            double endToEndSeconds, double captureSeconds, double streamsSeconds, long appliedTotal) {
        public String line(String region) {
            return String.format("%-9s applied/s %6.0f   p50 %6.1f ms   p99 %6.1f ms   e2e lag %s s (capture %s, streams %s)   %5.0f rec",
                    region, appliedPerSecond, p50Millis, p99Millis, seconds(endToEndSeconds), seconds(captureSeconds),
                    seconds(streamsSeconds), lagRecords);
        }

        private static String seconds(double s) {
            return Double.isNaN(s) ? "  -  " : String.format("%5.2f", s);
        }
    }
}
