package io.lethe.region.inspect;

import io.lethe.config.NamespaceConfig;
import io.lethe.region.apply.RegionMeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sweep's meters ({@link RegionMeterNames#SWEEP_KEYS}, {@link RegionMeterNames#SWEEP_PASS_FINISHED},
 * {@link RegionMeterNames#SWEEP_ERRORS}). Every result of every namespace is registered at zero when
 * the sweep starts: a counter that first appears at 1 shows no {@code increase()} in Prometheus, so
 * the alert would miss the first stale key.
 */
final class SweepMetrics {
    /** Every result tag value of {@link RegionMeterNames#SWEEP_KEYS}. */
    static final List<String> RESULTS = results();

    private final MeterRegistry registry;
    private final String region;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> passFinishedMillis = new ConcurrentHashMap<>();
    private final AtomicLong active = new AtomicLong();

    SweepMetrics(MeterRegistry registry, String region, List<NamespaceConfig> namespaces) {
        this.registry = registry;
        this.region = region;
        for (NamespaceConfig ns : namespaces) {
            RESULTS.forEach(r -> counter(ns.name(), r));
            AtomicLong at = passFinishedMillis.computeIfAbsent(ns.name(), n -> new AtomicLong());
            Gauge.builder(RegionMeterNames.SWEEP_PASS_FINISHED, at, a -> a.get() == 0 ? Double.NaN : a.get() / 1000.0)
                    .tag("region", region).tag("namespace", ns.name()).baseUnit("seconds")
                    .description("when the sweep last finished a pass over every key of the namespace (epoch seconds)")
                    .register(registry);
        }
        Gauge.builder(RegionMeterNames.SWEEP_ACTIVE, active, AtomicLong::get).tag("region", region)
                .description("1 while this instance sweeps the region (it holds the region's sweep lease)").register(registry);
        error("database", 0);
        error("redis", 0);
        error("key", 0);
        error("other", 0);
    }

    private static List<String> results() {
        List<String> out = new ArrayList<>(List.of("checked", "healed", "cleared", "unconfirmed"));
        for (Finding f : Finding.values()) {
            if (f.stale()) {
                out.add(result(f));
            }
        }
        return List.copyOf(out);
    }

    /** The result tag of a confirmed stale finding: its name in lower case. */
    static String result(Finding finding) {
        return finding.name().toLowerCase(Locale.ROOT);
    }

    private Counter counter(String namespace, String result) {
        return counters.computeIfAbsent(namespace + '\0' + result, k -> Counter.builder(RegionMeterNames.SWEEP_KEYS)
                .tag("region", region).tag("namespace", namespace).tag("result", result)
                .description("keys the region's sweep judged against their rows, by result").register(registry));
    }

    void count(String namespace, String result) {
        counter(namespace, result).increment();
    }

    void passFinished(String namespace, Instant at) {
        passFinishedMillis.computeIfAbsent(namespace, n -> new AtomicLong()).set(at.toEpochMilli());
    }

    /** Whether this instance sweeps now (holds the region's lease). */
    void active(boolean sweeping) {
        active.set(sweeping ? 1 : 0);
    }

    void error(String cause) {
        error(cause, 1);
    }

    private void error(String cause, long n) {
        counters.computeIfAbsent("\0error\0" + cause, k -> Counter.builder(RegionMeterNames.SWEEP_ERRORS).tag("region", region)
                .tag("cause", cause)
                .description("sweep steps that failed: the database or Redis did not answer, or one key could not be judged (cause key)")
                .register(registry)).increment(n);
    }
}
