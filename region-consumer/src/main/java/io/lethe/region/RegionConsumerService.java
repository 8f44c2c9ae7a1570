package io.lethe.region;

import io.lethe.config.LetheConfig;
import io.lethe.region.apply.AppliedListener;
import io.lethe.region.apply.RegionApply;
import io.lethe.region.apply.RegionMetrics;
import io.lethe.region.inspect.CacheSweep;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.trace.Tracing;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One region's consumer: reads its topic ({@code LetheConfig.topics()}: the public one, or its subscription set's) in a consumer group and
 * applies it to the region's Redis. This class is the region's public surface and owns its thread;
 * the parts are wired in {@link RegionApply} (package {@code io.lethe.region.apply}): {@code ApplyLoop}
 * (the poll loop and its retries), the offset ledger (what may be committed, across rebalances), the
 * dead letters, the replica gate and the restore replay (a Redis or a log that lost what was applied).
 * Beside it, on threads of their own, the staleness prober and the {@link CacheSweep} of the
 * region's keys against the database ({@code apply.sweep}).
 */
public final class RegionConsumerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegionConsumerService.class);

    private final String region;
    private final RegionApply parts;
    private final Thread thread;
    /** The region's sweep of its keys against their rows, or null when {@code apply.sweep.enabled} is false or no reader role is set. */
    private final CacheSweep sweep;
    private volatile boolean running;
    private volatile Throwable failure;
    private volatile boolean closed;

    public RegionConsumerService(LetheConfig config, String regionName, MeterRegistry registry, Clock clock) {
        this.region = config.region(regionName).name();
        this.parts = new RegionApply(config, regionName, registry, clock);
        this.thread = new Thread(this::run, "lethe-region-" + region);
        java.util.Optional<String> withoutReader = CacheSweep.withoutReader(config, region);
        boolean sweeping = config.apply().sweep().enabled() && withoutReader.isEmpty();
        if (config.apply().sweep().enabled() && withoutReader.isPresent()) {
            LOG.warn(withoutReader.get());
        }
        this.sweep = sweeping ? new CacheSweep(config, region, registry, clock) : null;
        if (!sweeping) {
            // the sweep's own gauge says 1 only while it holds the region's lease; off, it says 0 here
            io.micrometer.core.instrument.Gauge.builder(io.lethe.region.apply.RegionMeterNames.SWEEP_ACTIVE, () -> 0)
                    .tag("region", region).description("1 while this instance sweeps the region").register(registry);
        }
    }

    /** The group id of this region's consumers. */
    public static String groupId(LetheConfig config, String region) {
        return RegionApply.groupId(config, region);
    }

    /** Continues the traces of sampled invalidations with {@code tracing} (tracing.* of lethe.yml); call before {@link #start()}. */
    public RegionConsumerService tracing(Tracing tracing) {
        parts.tracing(tracing);
        return this;
    }

    public void addListener(AppliedListener listener) {
        parts.addListener(listener);
    }

    public RegionMetrics metrics() {
        return parts.metrics();
    }

    public String region() {
        return region;
    }

    /** Connects to Redis (loading the scripts) and Kafka, and starts the consumer thread. */
    public void start() {
        parts.start(() -> running);
        running = true;
        thread.start();
        parts.startProber();
        if (sweep != null) {
            sweep.start();
        }
    }

    private void run() {
        try {
            parts.run();
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("region {} consumer stopped", region, e);
        } finally {
            parts.finish();
        }
    }

    /**
     * True once this region's Redis is vouched for: a start with its marker in place, or a first
     * feed or topic move whose wholesale invalidation is done (after the replica gate, if any).
     * Until then an entry its Redis held before may be one no invalidation will reach.
     */
    public boolean fed() {
        return parts.fed();
    }

    /** True while the loop runs. */
    public boolean isRunning() {
        return running && thread.isAlive();
    }

    /**
     * True while a batch is being retried because Redis failed, a pattern's sweep is being swept
     * again after a failure, or the replica gate refuses its replica (health DOWN).
     */
    public boolean isRetrying() {
        return parts.isRetrying();
    }

    /** The configuration error that keeps the region from applying, if one does. */
    public Optional<Failure> misconfigured() {
        return parts.misconfigured();
    }

    /** Batches applied since start. */
    public long appliedBatches() {
        return parts.appliedBatches();
    }

    /** Dead letters sent and not yet acknowledged by Kafka. */
    public int unacknowledgedDeadLetters() {
        return parts.unacknowledgedDeadLetters();
    }

    /** The error that ended the loop, if one did. */
    public Throwable failure() {
        return failure;
    }

    /** PING this region's Redis. */
    public boolean redisReachable() {
        return parts.redisReachable();
    }

    /** Closes once: a second call (an owner closing what was already stopped for a restart) does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        running = false;
        if (sweep != null) {
            sweep.close();
        }
        parts.stop();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        parts.close();
    }
}
