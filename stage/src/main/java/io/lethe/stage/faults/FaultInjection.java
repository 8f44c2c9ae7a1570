package io.lethe.stage.faults;

import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fault-injection knobs: switches that turn one of Lethe's own guards OFF, so that a test can
 * break the pipeline the way a platform without that guard would break it and show that
 * something else (the coherence inspector: cache-client's shadow reads, {@code lethe inspect})
 * still finds the stale entries. Never for production: a guard switched off lets stale values be
 * served until their TTL.
 *
 * <p>A knob is the JVM system property {@code lethe.fault-injection.<guard>}, read when the guard
 * acts, whose value lists the scopes it applies to, comma-separated (a publication, a consumer
 * group; {@code *} for all). Unset (the default), every guard is on. Each guard that is off logs
 * an ERROR once per scope. The knobs (docs/runbook.md, "Coherence inspector"):
 * <ul>
 *   <li>{@link #SOURCE_WATCH}: capture's source watch of the publication (scope: the publication);
 *   <li>{@link #RESTORE_REPLAY}: a region's replay after its Redis came back restored (scope: the
 *       region's consumer group).
 * </ul>
 */
public final class FaultInjection {
    /** Capture's {@code SourceWatch}: no drift check, no repair, no reset; every batch is vouched for. */
    public static final String SOURCE_WATCH = "source-watch";
    /** region-consumer's {@code RestoreReplay}: a restored Redis is taken as it is (no rewind, no wholesale invalidation). */
    public static final String RESTORE_REPLAY = "restore-replay";
    /** The prefix of every knob's system property. */
    public static final String PROPERTY_PREFIX = "lethe.fault-injection.";

    private static final Logger LOG = LoggerFactory.getLogger(FaultInjection.class);
    private static final Set<String> TOLD = ConcurrentHashMap.newKeySet();

    private FaultInjection() {
    }

    /** Every knob set in this JVM, as {@code property=value}: empty in production. */
    public static java.util.List<String> active() {
        return System.getProperties().stringPropertyNames().stream().filter(n -> n.startsWith(PROPERTY_PREFIX)).sorted()
                .map(n -> n + "=" + System.getProperty(n)).toList();
    }

    /**
     * Says at start-up, whether or not a guard acts soon, that knobs are set: an ERROR line, and the
     * gauge {@code lethe.fault.injection.active} (the number of knobs) that an alert can watch.
     */
    public static void announce(io.micrometer.core.instrument.MeterRegistry registry) {
        java.util.List<String> set = active();
        io.micrometer.core.instrument.Gauge.builder("lethe.fault.injection.active", () -> active().size())
                .description("fault-injection knobs set in this process (Lethe's own guards switched off): 0 in production")
                .register(registry);
        if (!set.isEmpty()) {
            LOG.error("FAULT INJECTION: {} set in this process: Lethe's guards named there are OFF and stale entries will be left "
                    + "in the cache; never in production", set);
        }
    }

    /** True when the knob {@code guard} switches the guard off for {@code scope}. */
    public static boolean off(String guard, String scope) {
        String value = System.getProperty(PROPERTY_PREFIX + guard);
        if (value == null || value.isBlank()) {
            return false;
        }
        boolean off = Arrays.stream(value.split(",")).map(String::trim).anyMatch(s -> s.equals("*") || s.equals(scope));
        if (off && TOLD.add(guard + '\0' + scope)) {
            LOG.error("FAULT INJECTION: Lethe's {} guard is OFF for {} ({}{}): stale entries will be left in the cache", guard, scope,
                    PROPERTY_PREFIX, guard);
        }
        return off;
    }
}
