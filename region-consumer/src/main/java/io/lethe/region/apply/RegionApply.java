package io.lethe.region.apply;

import io.lethe.config.ApplyConfig;
import io.lethe.config.JdbcUrls;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.health.SigningKeyIds;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.retry.Retry;
import io.lethe.stage.trace.Tracing;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One region's apply parts, wired and owned: its Redis connections and the {@link RedisApplier},
 * the pattern sweeps' worker, the group's consumer and {@link OffsetLedger}, the
 * {@link RegionDeadLetters}, the replica gate ({@link GatedBatches}), the {@link RestoreReplay}, the
 * {@link ApplyLoop} that drives them and the {@link StartupFeed} check before it joins the group.
 * {@code RegionConsumerService} runs it on its thread.
 */
public final class RegionApply implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegionApply.class);

    private final LetheConfig config;
    private final RegionConfig region;
    private final ApplyConfig apply;
    private final Clock clock;
    private final MeterRegistry registry;
    private final RegionMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final List<AppliedListener> listeners = new CopyOnWriteArrayList<>();
    private Tracing tracing = Tracing.OFF;
    private KafkaConsumer<String, byte[]> consumer;
    private KafkaProducer<String, byte[]> dlqProducer;
    private Admin admin;
    /** On the primary cluster, for a region reading a mirrored cluster of its own; else null. */
    private Admin primaryAdmin;
    private KafkaClientMetrics consumerMetrics;
    private RegionRedis redis;
    /** The sweep worker's own connections (none with a replica gate: its batches are applied whole, twice). */
    private RegionRedis sweepRedis;
    private PatternSweeps sweeps;
    private ReplicaGate gate;
    private StalenessProber prober;
    private OffsetLedger ledger;
    private RegionDeadLetters deadLetters;
    private ApplyLoop loop;
    private RestoreGuard restoreGuard;
    private BrokerPartitions partitions;
    private StartupFeed feed;

    public RegionApply(LetheConfig config, String regionName, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.region = config.region(regionName);
        this.apply = config.apply();
        this.clock = clock;
        this.registry = registry;
        this.metrics = new RegionMetrics(registry, region.name());
        this.misconfiguration = new Misconfiguration(registry, "region:" + region.name());
        SigningKeyIds.register(registry, "region:" + region.name(), EventRules.signingKeys(config), false, true); // verifies, signs nothing
    }

    /** The group id of a region's consumers. */
    public static String groupId(LetheConfig config, String region) {
        return config.apply().groupPrefix() + region;
    }

    public void tracing(Tracing tracing) {
        this.tracing = tracing;
    }

    public void addListener(AppliedListener listener) {
        listeners.add(listener);
    }

    public RegionMetrics metrics() {
        return metrics;
    }

    /**
     * Connects to Redis (loading the scripts) and Kafka and wires the parts; {@code running} is
     * false once the region is closing (waits at start-up give up then).
     */
    public void start(BooleanSupplier running) {
        TopicSetup.ensure(config, KafkaRole.region(region.name()),
                List.of(config.topics().invalidations(region.name()), config.topics().dlq()),
                Duration.ofSeconds(60));
        redis = new RegionRedis(region, apply.connections(), apply.commandTimeout());
        loadScripts();
        RedisApplier applier = new RedisApplier(redis, config.namespaces(), Set.copyOf(region.namespaces()), metrics,
                apply.commandTimeout(),
                apply.patternScanCount(), apply.patternKeysPerSecond());
        // every upsert the region writes, whatever brought it (first read, redelivery, a replay, a rebalance), is judged by its age
        applier.ageUpsertsBy(new UpsertAge(config, clock));
        if (!region.hasReplicaGate()) {
            // sweeps walk the keyspace on a worker and connections of their own, while the loop goes on applying
            sweepRedis = new RegionRedis(region, apply.connections(), apply.commandTimeout());
            RedisApplier sweepApplier = new RedisApplier(sweepRedis, config.namespaces(), Set.copyOf(region.namespaces()), metrics,
                    apply.commandTimeout(), apply.patternScanCount(), apply.patternKeysPerSecond());
            sweeps = new PatternSweeps(region.name(), sweepApplier::sweep, metrics,
                    new Backoff(apply.retryBackoffMin(), apply.retryBackoffMax()), misconfiguration::report);
            applier.sweepOn(sweeps);
        }
        consumer = RegionClients.consumer(config, region.name());
        dlqProducer = RegionClients.deadLetterProducer(config, region.name());
        admin = RegionClients.admin(config, region.name());
        primaryAdmin = RegionClients.primaryAdmin(config, region.name());
        partitions = new BrokerPartitions(config, region.name(), consumer, admin, primaryAdmin);
        restoreGuard = new RestoreGuard(redis, groupId(config, region.name()),
                partitions.ofTopic(config.topics().invalidations(region.name())));
        deadLetters = new RegionDeadLetters(dlqProducer, config.topics().dlq(), region.name(), metrics, clock);
        ledger = new OffsetLedger(consumer, apply.commitInterval(), System::nanoTime, deadLetters::settled,
                () -> loop != null && loop.holdsPartitions(), restoreGuard::checkpointCommitted,
                () -> metrics.retry("commit"), metrics.watermarks()::commitMetadata);
        GatedBatches gated = null;
        if (region.hasReplicaGate()) {
            gate = new ReplicaGate(config, region, apply, registry, metrics::replicaRefused);
            gated = new GatedBatches(gate, consumer, ledger, metrics, region.name());
        }
        TopicMove.Marker marker = RedisMarker.of(redis, groupId(config, region.name()));
        MarkerView view = new MarkerView(region.name(), marker, consumer, misconfiguration, metrics,
                HoldsReconciler.of(config, region, marker, redis, metrics, clock));
        RestoreReplay restore = new RestoreReplay(config, region, consumer, ledger, restoreGuard, metrics, clock, view);
        loop = new ApplyLoop(config, region.name(), consumer, applier, ledger, deadLetters, gated, restore, metrics,
                misconfiguration, clock, listeners);
        loop.tracing(tracing);
        loop.publishAppliedLsn(new AppliedLsnPublisher(metrics.watermarks(), new AppliedLsnPublisher.Target() {
            @Override
            public void hset(String key, Map<String, String> fields) {
                // only into the server verified against its checkpoint: a restored one gets it after the replay
                if (!restoreGuard.writeVerified(key, fields)) {
                    throw new IllegalStateException("Redis is not (yet) the server verified against its checkpoint");
                }
            }

            @Override
            public void hdel(String key, String... fields) {
                redis.hashCommands().hdel(key, fields);
            }
        }, groupId(config, region.name()), partitions.counts()));
        feed = new StartupFeed(config, region, clock, metrics, misconfiguration, redis, admin, restoreGuard, loop, partitions, running,
                view);
        consumerMetrics = new KafkaClientMetrics(consumer);
        consumerMetrics.bindTo(registry);
    }

    /** Starts the staleness prober, if the configuration samples. */
    public void startProber() {
        if (apply.proberSampleEvery() > 0) {
            prober = new StalenessProber(config, region.name(), registry, clock);
            prober.start();
        }
        LOG.info("region {} consuming {} into Redis {}", region.name(), config.topics().invalidations(region.name()), redis.display());
    }

    /** Loads the scripts, a few tries; after that the loop retries with every batch until Redis answers. */
    private void loadScripts() {
        try {
            boolean loaded = Retry.of(LOG, new Backoff(apply.retryBackoffMin(), apply.retryBackoffMax()),
                    "region " + region.name() + ": loading the scripts into Redis " + redis.display())
                    .onFailure((e, attempt) -> {
                        Failure f = RedisFailures.classify(e, redis.display());
                        if (f.isFatal()) {
                            misconfiguration.report(f);
                        }
                    })
                    .atMost(5, "the loop loads them with every batch until Redis answers")
                    .run(redis::loadScripts);
            metrics.up(loaded);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The region's work, on the caller's thread: the start-up feed check, then the loop in the group
     * until it is stopped. Always ends with {@link #finish()}.
     */
    public void run() throws InterruptedException {
        if (!feed.handleTopicMove()) {
            return;
        }
        feed.seedLsnCeiling();
        consumer.subscribe(List.of(config.topics().invalidations(region.name())), ledger);
        loop.run();
    }

    /** After the loop: flushes the dead letters, commits what was applied and leaves the group. */
    public void finish() {
        metrics.up(false);
        try {
            deadLetters.flush(Duration.ofSeconds(5));
            ledger.commit();
        } catch (RuntimeException | InterruptedException ignored) {
            // closing: whatever was applied but not committed is applied again by the next owner
        }
        consumer.close(Duration.ofSeconds(5));
    }

    /** True once this region's Redis is vouched for (see {@code RegionConsumerService#fed}). */
    public boolean fed() {
        return feed != null && feed.fed();
    }

    /**
     * True while a batch is being retried because Redis failed, a pattern's sweep is being swept
     * again after a failure, the replica gate refuses its replica (health DOWN), or the start-up check
     * waits for Redis or the brokers to answer.
     */
    public boolean isRetrying() {
        return loop != null && loop.isRetrying() || sweeps != null && sweeps.failing() || misconfiguration.current().isPresent()
                || gate != null && gate.refusal().isPresent() || feed != null && (feed.moving() || feed.waiting());
    }

    /** The configuration error that keeps the region from applying, if one does. */
    public Optional<Failure> misconfigured() {
        Optional<Failure> current = misconfiguration.current();
        if (current.isEmpty() && gate != null && gate.refusal().isPresent()) {
            return Optional.of(Failure.fatal("replica " + JdbcUrls.forDisplay(region.replicaJdbcUrl()) + " refused: "
                    + gate.refusal().get(), "point regions." + region.name() + ".replica at a standby of the primary", null));
        }
        return current;
    }

    /** Batches applied since start. */
    public long appliedBatches() {
        return loop == null ? 0 : loop.appliedBatches();
    }

    /** Dead letters sent and not yet acknowledged by Kafka. */
    public int unacknowledgedDeadLetters() {
        return deadLetters == null ? 0 : deadLetters.unacknowledged();
    }

    /** PING this region's Redis. */
    public boolean redisReachable() {
        return redis != null && redis.ping();
    }

    /** Closes the staleness prober, asks the loop to stop and wakes the consumer up from its poll. */
    public void stop() {
        if (prober != null) {
            prober.close();
        }
        if (loop != null) {
            loop.stop();
        }
        if (consumer != null) {
            consumer.wakeup();
        }
    }

    /** Closes the clients and connections, once the loop's thread ended. */
    @Override
    public void close() {
        if (consumerMetrics != null) {
            consumerMetrics.close();
        }
        if (dlqProducer != null) {
            dlqProducer.close(Duration.ofSeconds(5));
        }
        if (primaryAdmin != null) {
            primaryAdmin.close(Duration.ofSeconds(5));
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (gate != null) {
            gate.close();
        }
        if (sweeps != null) {
            sweeps.close();
        }
        if (sweepRedis != null) {
            sweepRedis.close();
        }
        if (redis != null) {
            redis.close();
        }
    }
}
