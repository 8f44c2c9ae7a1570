package io.lethe.region.apply;

import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.retry.Retry;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a plan until Redis acknowledges it ({@link Retry}): from the first failure until then,
 * every partition is paused and the waits are spent polling (the consumer stays in its group and
 * nothing later is applied first); each failure is counted by kind, a configuration error keeps
 * health DOWN until the plan is applied.
 */
final class UntilAcknowledged {
    private static final Logger LOG = LoggerFactory.getLogger(UntilAcknowledged.class);

    private final String region;
    private final Consumer<String, byte[]> consumer;
    private final Applier applier;
    private final RegionMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final Backoff backoff;
    private final Retry.Wait waitPolling;
    private final BooleanSupplier otherwiseHeld;
    private volatile boolean retrying;

    /**
     * @param waitPolling   spends a wait polling with the partitions paused; false once the region is closing
     * @param otherwiseHeld true while something else keeps the partitions paused (the replica gate's queue, sweeps)
     */
    UntilAcknowledged(String region, Consumer<String, byte[]> consumer, Applier applier, RegionMetrics metrics,
            Misconfiguration misconfiguration, Backoff backoff, Retry.Wait waitPolling, BooleanSupplier otherwiseHeld) {
        this.region = region;
        this.consumer = consumer;
        this.applier = applier;
        this.metrics = metrics;
        this.misconfiguration = misconfiguration;
        this.backoff = backoff;
        this.waitPolling = waitPolling;
        this.otherwiseHeld = otherwiseHeld;
    }

    /** True while a plan is being retried (fetching stays paused). */
    boolean retrying() {
        return retrying;
    }

    /**
     * Applies the plan until Redis acknowledges it; with {@code deferSweeps}, the plan's sweeps go on
     * on the sweep worker.
     *
     * @return what it did, or null when the region is closing before it could apply (nothing may be committed)
     */
    Applied apply(BatchPlan plan, boolean deferSweeps) throws InterruptedException {
        try {
            Optional<Applied> applied = Retry.of(LOG, backoff, "region " + region + ": applying "
                    + (plan.keys().size() + plan.patterns().size()) + " invalidations (nothing is committed until Redis acknowledges them)")
                    .untilStopped()
                    .onFailure(ApplyFailure.class, (e, attempt) -> {
                        metrics.retry(e.kind());
                        metrics.up(false);
                        if (e.failure().isFatal()) {
                            misconfiguration.report(e.failure());
                        }
                        retrying = true;
                        consumer.pause(consumer.assignment());
                    })
                    .waiting(waitPolling)
                    .get(() -> deferSweeps ? applier.applyDeferringSweeps(plan) : applier.apply(plan));
            if (applied.isPresent()) {
                metrics.up(true);
                misconfiguration.clear();
            }
            return applied.orElse(null);
        } finally {
            retrying = false;
            if (!otherwiseHeld.getAsBoolean()) {
                consumer.resume(consumer.paused());
            }
        }
    }
}
