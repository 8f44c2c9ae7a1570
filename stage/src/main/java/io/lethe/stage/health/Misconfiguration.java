package io.lethe.stage.health;

import io.lethe.stage.failure.Failure;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stage's configuration error (credentials refused, an ACL denial): while one is reported the
 * stage keeps retrying, its {@code /health} is DOWN and {@value #METRIC}{@code {stage}} is 1.
 * The fix is logged once per distinct reason, at ERROR, in one line.
 */
public final class Misconfiguration {
    /** 1 while a configuration error stops the stage. */
    public static final String METRIC = "lethe.stage.misconfigured";
    private static final Logger LOG = LoggerFactory.getLogger(Misconfiguration.class);

    private final String stage;
    private final AtomicReference<Failure> current = new AtomicReference<>();

    public Misconfiguration(MeterRegistry registry, String stage) {
        this.stage = stage;
        Gauge.builder(METRIC, current, c -> c.get() == null ? 0 : 1).tag("stage", stage)
                .description("1 while a configuration error (credentials, ACL) stops the stage; the log names the fix")
                .register(registry);
    }

    /** Reports a {@link Failure#isFatal() configuration} failure. */
    public void report(Failure failure) {
        Failure before = current.getAndSet(failure);
        if (before == null || !before.reason().equals(failure.reason())) {
            LOG.error("{}: configuration error ({}), retrying until it is fixed: {}", stage, failure.reason(), failure.fix());
        }
    }

    /** The stage works again. */
    public void clear() {
        if (current.getAndSet(null) != null) {
            LOG.info("{}: the configuration error is gone", stage);
        }
    }

    public Optional<Failure> current() {
        return Optional.ofNullable(current.get());
    }
}
