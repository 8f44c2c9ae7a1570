package io.lethe.region;

import io.lethe.config.ApplyConfig;
import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.config.kafka.TopicSetup;
import io.lethe.region.apply.AppliedListener;
import io.lethe.region.apply.RedisApplier;
import io.lethe.region.apply.RegionDeadLetters;
import io.lethe.region.apply.GatedBatches;
import io.lethe.region.apply.ReplicaGate;
import io.lethe.region.apply.ApplyLoop;
import io.lethe.region.apply.RegionMetrics;
import io.lethe.region.apply.OffsetLedger;
import io.lethe.region.apply.StalenessProber;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.apply.RestoreGuard;
import io.lethe.region.apply.RestoreReplay;
import io.lethe.region.apply.TopicMove;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.failure.KafkaFailures;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.retry.Backoff;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One region's consumer: reads its topic ({@code LetheConfig.topics()}: the public one, or its subscription set's) in a consumer group and
 * applies it to the region's Redis. This class wires the parts and owns their lifecycle:
 * {@link ApplyLoop} (the poll loop and its retries), {@link OffsetLedger} (what may be committed,
 * across rebalances), {@link RegionDeadLetters}, {@link GatedBatches} (replica gate) and
 * {@link RestoreReplay} (a Redis or a log that lost what was applied).
 */
public final class RegionConsumerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegionConsumerService.class);

    private final LetheConfig config;
    private final RegionConfig region;
    private final ApplyConfig apply;
    private final Clock clock;
    private final MeterRegistry registry;
    private final RegionMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final List<AppliedListener> listeners = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile boolean running;
    private volatile Throwable failure;
    private KafkaConsumer<String, byte[]> consumer;
    private KafkaProducer<String, byte[]> dlqProducer;
    private org.apache.kafka.clients.admin.Admin admin;
    /** On the primary cluster, for a region reading a mirrored cluster of its own; else null. */
    private org.apache.kafka.clients.admin.Admin primaryAdmin;
    private KafkaClientMetrics consumerMetrics;
    private RegionRedis redis;
    /** The sweep worker's own connections (none with a replica gate: its batches are applied whole, twice). */
    private RegionRedis sweepRedis;
    private io.lethe.region.apply.PatternSweeps sweeps;
    private ReplicaGate gate;
    private StalenessProber prober;
    private OffsetLedger ledger;
    private RegionDeadLetters deadLetters;
    private ApplyLoop loop;
    private RestoreGuard restoreGuard;
    /** The topic move being handled at start-up (not ready meanwhile), or null. */
    private volatile TopicMove.Moved topicMove;
    private io.lethe.stage.trace.Tracing tracing = io.lethe.stage.trace.Tracing.OFF;

    public RegionConsumerService(LetheConfig config, String regionName, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.region = config.region(regionName);
        this.apply = config.apply();
        this.clock = clock;
        this.registry = registry;
        this.metrics = new RegionMetrics(registry, region.name());
        this.misconfiguration = new Misconfiguration(registry, "region:" + region.name());
        this.thread = new Thread(this::run, "lethe-region-" + region.name());
    }

    /** The group id of this region's consumers. */
    public static String groupId(LetheConfig config, String region) {
        return config.apply().groupPrefix() + region;
    }

    /** Continues the traces of sampled invalidations with {@code tracing} (tracing.* of lethe.yml); call before {@link #start()}. */
    public RegionConsumerService tracing(io.lethe.stage.trace.Tracing tracing) {
        this.tracing = tracing;
        return this;
    }

    public void addListener(AppliedListener listener) {
        listeners.add(listener);
    }

    public RegionMetrics metrics() {
        return metrics;
    }

    public String region() {
        return region.name();
    }

    /** Connects to Redis (loading the scripts) and Kafka, and starts the consumer thread. */
    public void start() {
        TopicSetup.ensure(config, io.lethe.config.KafkaRole.region(region.name()), List.of(config.topics().invalidations(region.name()), config.topics().dlq()),
                Duration.ofSeconds(60));
        redis = new RegionRedis(region, apply.connections(), apply.commandTimeout());
        loadScripts();
        RedisApplier applier = new RedisApplier(redis, config.namespaces(), java.util.Set.copyOf(region.namespaces()), metrics, apply.commandTimeout(),
                apply.patternScanCount(), apply.patternKeysPerSecond());
        // every upsert the region writes, whatever brought it (first read, redelivery, a replay, a rebalance), is judged by its age
        applier.ageUpsertsBy(new io.lethe.region.apply.UpsertAge(config, clock));
        if (!region.hasReplicaGate()) {
            // sweeps walk the keyspace on a worker and connections of their own, while the loop goes on applying
            sweepRedis = new RegionRedis(region, apply.connections(), apply.commandTimeout());
            RedisApplier sweepApplier = new RedisApplier(sweepRedis, config.namespaces(), java.util.Set.copyOf(region.namespaces()), metrics,
                    apply.commandTimeout(), apply.patternScanCount(), apply.patternKeysPerSecond());
            sweeps = new io.lethe.region.apply.PatternSweeps(region.name(), sweepApplier::sweep, metrics,
                    new Backoff(apply.retryBackoffMin(), apply.retryBackoffMax()), misconfiguration::report);
            applier.sweepOn(sweeps);
        }
        consumer = RegionClients.consumer(config, region.name());
        restoreGuard = new RestoreGuard(redis, groupId(config, region.name()),
                partitionCount(config.topics().invalidations(region.name())));
        dlqProducer = RegionClients.deadLetterProducer(config, region.name());
        admin = RegionClients.admin(config, region.name());
        primaryAdmin = RegionClients.primaryAdmin(config, region.name());
        deadLetters = new RegionDeadLetters(dlqProducer, config.topics().dlq(), region.name(), metrics, clock);
        ledger = new OffsetLedger(consumer, apply.commitInterval(), System::nanoTime, deadLetters::settled,
                () -> loop != null && loop.holdsPartitions(), restoreGuard::checkpointCommitted,
                () -> metrics.retry("commit"), metrics.watermarks()::commitMetadata);
        GatedBatches gated = null;
        if (region.hasReplicaGate()) {
            gate = new ReplicaGate(config, region, apply, registry, metrics::replicaRefused);
            gated = new GatedBatches(gate, consumer, ledger, metrics, region.name());
        }
        RestoreReplay restore = new RestoreReplay(config, region, consumer, ledger, restoreGuard, metrics, clock);
        loop = new ApplyLoop(config, region.name(), consumer, applier, ledger, deadLetters, gated, restore, metrics,
                misconfiguration, clock, listeners);
        loop.tracing(tracing);
        loop.publishAppliedLsn(new io.lethe.region.apply.AppliedLsnPublisher(metrics.watermarks(), new io.lethe.region.apply.AppliedLsnPublisher.Target() {
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
        }, groupId(config, region.name()), partitionCounts()));
        consumerMetrics = new KafkaClientMetrics(consumer);
        consumerMetrics.bindTo(registry);
        running = true;
        thread.start();
        if (apply.proberSampleEvery() > 0) {
            prober = new StalenessProber(config, region.name(), registry, clock);
            prober.start();
        }
        LOG.info("region {} consuming {} into Redis {}", region.name(), config.topics().invalidations(region.name()), redis.display());
    }

    /**
     * The partition count of {@code topic} from the consumer's metadata (on its thread), 0 while
     * unknown. Not cached here: the consumer refreshes its metadata every
     * {@code metadata.max.age.ms} (10 s), so partitions added to scale out are counted soon after.
     */
    private java.util.function.IntSupplier partitionCount(String topic) {
        return () -> {
            try {
                var partitions = consumer.partitionsFor(topic, PARTITIONS_WAIT);
                return partitions == null ? 0 : partitions.size();
            } catch (org.apache.kafka.common.KafkaException e) {
                LOG.debug("region {}: partitions of {} not known now ({})", region.name(), topic, e.toString());
                return 0;
            }
        };
    }

    /**
     * The partition counts of the region's topic and the changes topic, read from the brokers each
     * time (never cached: partitions are added to scale out, and a count read before a heartbeat
     * was applied may miss the partition a change before it went to). Waits at most
     * {@link #PARTITIONS_WAIT}; empty when the brokers do not answer in time or a topic does not
     * exist yet (the changes topic may not when regions start).
     *
     * <p>A region reading a mirrored cluster of its own reads both counts from the primary, where
     * streams routes: the changes topic is not mirrored, and the mirror adds a partition to the
     * region's topic only some time after streams began routing to it there. A watermark published
     * with the mirror's smaller count would send a reader of a key routed to the new partition to
     * an old partition's watermark, which can have passed that key's change while the change is
     * still on its way through the mirror; with the primary's count the reader finds no watermark
     * for the new partition until one was applied here, and loads from the primary.
     */
    private io.lethe.region.apply.PartitionCounts partitionCounts() {
        String regionTopic = config.topics().invalidations(region.name());
        String changesTopic = config.topics().changes();
        long[] failedAt = {System.nanoTime() - PARTITIONS_RETRY.toNanos()};
        return () -> {
            if (System.nanoTime() - failedAt[0] < PARTITIONS_RETRY.toNanos()) {
                return Optional.empty(); // the brokers did not answer just now: the loop does not wait on them again yet
            }
            try {
                Map<String, org.apache.kafka.clients.admin.TopicDescription> topics = (primaryAdmin != null ? primaryAdmin : admin)
                        .describeTopics(List.of(regionTopic, changesTopic))
                        .allTopicNames().get(PARTITIONS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                // one watermark channel per capture shard and changes partition: a region covers a position only once every
                // shard's heartbeats passed it on every partition (a shard whose watermark never came holds it back)
                return Optional.of(new io.lethe.region.apply.PartitionCounts.Counts(topics.get(regionTopic).partitions().size(),
                        topics.get(changesTopic).partitions().size() * config.shardCount()));
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                failedAt[0] = System.nanoTime();
                LOG.debug("region {}: partitions of {} and {} not known now ({}); the applied watermark waits", region.name(),
                        regionTopic, changesTopic, e.toString());
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        };
    }

    private static final Duration PARTITIONS_WAIT = Duration.ofSeconds(1);
    private static final Duration PARTITIONS_RETRY = Duration.ofSeconds(2);

    /** Loads the scripts, a few tries; after that the loop retries with every batch until Redis answers. */
    private void loadScripts() {
        Backoff backoff = new Backoff(apply.retryBackoffMin(), apply.retryBackoffMax());
        while (true) {
            try {
                redis.loadScripts();
                metrics.up(true);
                return;
            } catch (RuntimeException e) {
                Failure f = RedisFailures.classify(e, redis.display());
                if (f.isFatal()) {
                    misconfiguration.report(f);
                }
                if (backoff.attempts() >= 4) {
                    LOG.warn("region {}: cannot load scripts into Redis {} yet ({}); will retry per batch",
                            region.name(), redis.display(), e.toString());
                    metrics.up(false);
                    return;
                }
                try {
                    backoff.sleep();
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private volatile boolean fed;
    private volatile boolean closed;

    private void run() {
        try {
            if (!handleTopicMove()) {
                return;
            }
            seedLsnCeiling();
            consumer.subscribe(List.of(config.topics().invalidations(region.name())), ledger);
            loop.run();
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("region {} consumer stopped", region.name(), e);
        } finally {
            metrics.up(false);
            try {
                deadLetters.flush(Duration.ofSeconds(5));
                ledger.commit();
            } catch (RuntimeException | InterruptedException ignored) {
                // closing: whatever was applied but not committed is applied again by the next owner
            }
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /**
     * Before joining the group: a region the configuration moved to another topic waits until
     * streams writes the new one, then starts with a wholesale invalidation of its namespaces
     * ({@link TopicMove}). Retries while Redis or the brokers do not answer; false when closed meanwhile.
     */
    private boolean handleTopicMove() throws InterruptedException {
        String topic = config.topics().invalidations(region.name());
        String group = groupId(config, region.name());
        TopicMove.Marker marker = TopicMove.inRedis(redis, group);
        List<String> receives = config.receives(region);
        Map<String, List<String>> globs = new java.util.TreeMap<>();
        Map<String, List<String>> rendered = new java.util.TreeMap<>();
        receives.forEach(ns -> globs.put(ns, config.namespaces().get(ns).namespaceGlobs()));
        receives.forEach(ns -> rendered.put(ns, config.namespaces().get(ns).keysRendered()));
        Backoff backoff = new Backoff(apply.retryBackoffMin(), apply.retryBackoffMax());
        Optional<TopicMove.Moved> moved;
        TopicMove.Fed now;
        while (true) {
            try {
                // the cluster this region reads: offsets and checkpoints are positions in it, and another one (a mirror of
                // its own, moved back, rebuilt under the same address) keeps the topic's name
                String cluster = TopicMove.clusterId(admin);
                now = new TopicMove.Fed(topic, receives, globs, rendered, cluster);
                moved = TopicMove.detect(marker, admin, group, config.topics(), now);
                restoreGuard.cluster(cluster);
                break;
            } catch (RuntimeException e) {
                if (!running) {
                    return false;
                }
                // the marker is read from Redis, the group's offsets from Kafka: each client's own classification says
                // whether this is a misconfiguration (credentials, a denied command or ACL) or a wait
                Failure f = e instanceof io.lettuce.core.RedisException ? RedisFailures.classify(e, redis.display()) : KafkaFailures.classify(e);
                if (f.isFatal()) {
                    misconfiguration.report(f);
                }
                LOG.warn("region {}: cannot check whether its topic moved yet ({}); retrying", region.name(), e.toString());
                backoff.sleep();
            }
        }
        misconfiguration.clear();
        TopicMove.Fed fedNow = now;
        if (moved.isEmpty()) {
            loop.whenStarted(() -> writeMarker(marker, fedNow));
            return true;
        }
        TopicMove.Moved move = moved.get();
        List<String> invalidated = now.invalidatedFor(move, region.namespaces());
        if (move.firstFeed()) {
            firstFeed(marker, now, invalidated);
            return true;
        }
        topicMove = move;
        LOG.warn("region {}: {} (found by {}); waiting for streams to write {} as this configuration routes it, then invalidating "
                + "namespaces {} wholesale", region.name(), move.toAnotherTopic() ? "moved from topic " + move.from() + " to " + move.to()
                : move.toAnotherCluster() ? "reads topic " + topic + " on another Kafka cluster" : "receives other namespaces on " + topic,
                move.foundBy(), topic, invalidated);
        java.util.OptionalLong switchedAt = awaitStreamsWriting(topic, "");
        if (switchedAt.isEmpty()) {
            return false;
        }
        // at the position of the watermarks that proved the switch: older upserts a replay of the new topic brings are deletes
        loop.invalidateFirst("topic-move:" + move.from() + ":" + clock.millis(), switchedAt.getAsLong(), invalidated, move.formerGlobs(), () -> {
            metrics.topicMoved();
            if (move.toAnotherCluster()) {
                // the checkpoint's offsets are the old cluster's: a restore must never replay from them here
                restoreGuard.forgetForeignCheckpoint();
            }
            writeMarker(marker, fedNow);
            topicMove = null;
            LOG.info("region {}: now fed from topic {} with namespaces {}; {} invalidated wholesale", region.name(), topic,
                    fedNow.receives(), invalidated);
        });
        return true;
    }

    /**
     * The proof a topic move and a first feed wait for ({@link TopicMove#awaitStreamsWriting}): streams
     * writes {@code topic} as this configuration routes it, from every changes partition (counted on
     * the primary), signed with the watermark key if there is one.
     *
     * @param saying what each minute's "still waiting" line starts with
     */
    private java.util.OptionalLong awaitStreamsWriting(String topic, String saying) {
        io.lethe.region.apply.PartitionCounts counts = partitionCounts();
        IntSupplier sources = () -> counts.now().map(io.lethe.region.apply.PartitionCounts.Counts::changes).orElse(0);
        byte[] key = config.streams().watermarkKey() == null ? null
                : config.streams().watermarkKey().reveal().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return TopicMove.awaitStreamsWriting(() -> RegionClients.watcher(config, region.name()), topic, config.routes(topic), key, sources,
                config.source().shardOrder(), () -> !running, why -> LOG.warn("region {}: {}{}", region.name(), saying, why));
    }

    /**
     * A first feed ({@link TopicMove#NOTHING}): while the region applies as usual, a watcher waits
     * until streams writes the topic as this configuration routes it (a watermark of every changes
     * partition written after now, with this configuration's routes and, with a key, signed: the
     * proof a move waits for, so neither an old watermark of another installation nor one of a
     * streams still on another configuration counts); then the loop invalidates the namespaces
     * wholesale at the highest of those positions and the marker is written. Those watermarks
     * prove capture's slot existed before: entries filled earlier go, later changes are on the topic.
     */
    private void firstFeed(TopicMove.Marker marker, TopicMove.Fed now, List<String> invalidated) {
        String topic = now.topic();
        LOG.info("region {}: its Redis records no topic (a first feed); namespaces {} are invalidated wholesale once streams writes "
                + "{} as this configuration routes it (entries filled before capture's slot existed have no invalidation)",
                region.name(), invalidated, topic);
        metrics.firstFeedPending(true);
        java.util.concurrent.CompletableFuture<Long> proof = new java.util.concurrent.CompletableFuture<>();
        Thread watcher = new Thread(() -> {
            Backoff backoff = new Backoff(apply.retryBackoffMin(), apply.retryBackoffMax());
            while (running) {
                try {
                    awaitStreamsWriting(topic, "first feed pending: ").ifPresent(proof::complete);
                    return;
                } catch (RuntimeException e) {
                    // Kafka slow or refusing (the region's own cluster at start, an ACL): waited out, never given up
                    Failure f = KafkaFailures.classify(e);
                    LOG.warn("region {}: the first feed cannot watch {} yet ({}{}); retrying", region.name(), topic, e.toString(),
                            f.isFatal() ? ": " + f.fix() : "");
                    try {
                        backoff.sleep();
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }, "lethe-region-" + region.name() + "-first-feed");
        watcher.setDaemon(true);
        watcher.start();
        loop.invalidateWhenProven("first-feed:" + clock.millis(), invalidated, proof, () -> {
            metrics.firstFed();
            metrics.firstFeedPending(false);
            writeMarker(marker, now);
            LOG.info("region {}: first feed done: namespaces {} invalidated wholesale; now fed from topic {}", region.name(),
                    invalidated, topic);
        });
    }

    /**
     * Seeds the LSN ceiling with the highest partition LSN of the applied watermark this region
     * published in its Redis (written only by its own verified script), when there is one: without
     * it the ceiling holds only once the first heartbeat of this run arrived.
     */
    private void seedLsnCeiling() {
        io.lethe.region.apply.ReplayFloor floor = new io.lethe.region.apply.ReplayFloor(changesPartitions());
        loop.judgeReplaysBy(floor);
        try {
            Map<String, String> published = redis.hashCommands().hgetall(io.lethe.schemas.redis.AppliedLsn.key(groupId(config, region.name())));
            io.lethe.schemas.redis.AppliedLsn.highest(published).ifPresent(loop::seedLsnCeiling);
            floor.seed(published);
        } catch (RuntimeException e) {
            LOG.debug("region {}: no applied watermark to seed the LSN ceiling and the replay floor with ({}); they hold from the "
                    + "first heartbeats", region.name(), e.toString());
        }
    }

    /**
     * True once this region's Redis is vouched for: a start with its marker in place, or a first
     * feed or topic move whose wholesale invalidation is done (after the replica gate, if any).
     * Until then an entry its Redis held before may be one no invalidation will reach.
     */
    public boolean fed() {
        return fed;
    }

    /**
     * How many partitions the changes topic has, for the replay floor: read from the brokers at most
     * every {@link #SOURCES_REFRESH} (partitions are added rarely, and a count that is behind only
     * turns upserts of a new partition into deletes until it is read again); 0 while never known.
     */
    private IntSupplier changesPartitions() {
        io.lethe.region.apply.PartitionCounts counts = partitionCounts();
        int[] known = {0};
        long[] readAt = {System.nanoTime() - SOURCES_REFRESH.toNanos()};
        return () -> {
            if (System.nanoTime() - readAt[0] >= (known[0] == 0 ? PARTITIONS_RETRY : SOURCES_REFRESH).toNanos()) {
                readAt[0] = System.nanoTime();
                counts.now().ifPresent(c -> known[0] = Math.max(known[0], c.changes()));
            }
            return known[0];
        };
    }

    private static final Duration SOURCES_REFRESH = Duration.ofSeconds(10);

    /** Records the topic this region's Redis is fed from, trying again while Redis does not answer (a few seconds at most). */
    private void writeMarker(TopicMove.Marker marker, TopicMove.Fed fed) {
        this.fed = true;
        Backoff backoff = new Backoff(apply.retryBackoffMin(), apply.retryBackoffMax());
        for (int attempt = 1; ; attempt++) {
            try {
                marker.write(fed);
                return;
            } catch (RuntimeException e) {
                if (attempt >= 5 || !running) {
                    // not written: the next start finds the move again (a second wholesale invalidation, never a stale entry)
                    LOG.warn("region {}: could not record topic {} in Redis ({}); a restart will invalidate wholesale again",
                            region.name(), fed.topic(), e.toString());
                    return;
                }
                try {
                    backoff.sleep();
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
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
        return loop != null && loop.isRetrying() || sweeps != null && sweeps.failing() || misconfiguration.current().isPresent()
                || gate != null && gate.refusal().isPresent() || topicMove != null;
    }

    /** The configuration error that keeps the region from applying, if one does. */
    public Optional<Failure> misconfigured() {
        Optional<Failure> current = misconfiguration.current();
        if (current.isEmpty() && gate != null && gate.refusal().isPresent()) {
            return Optional.of(Failure.fatal("replica " + io.lethe.config.JdbcUrls.forDisplay(region.replicaJdbcUrl()) + " refused: "
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

    /** The error that ended the loop, if one did. */
    public Throwable failure() {
        return failure;
    }

    /** PING this region's Redis. */
    public boolean redisReachable() {
        return redis != null && redis.ping();
    }

    /** Closes once: a second call (an owner closing what was already stopped for a restart) does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (prober != null) {
            prober.close();
        }
        running = false;
        if (loop != null) {
            loop.stop();
        }
        if (consumer != null) {
            consumer.wakeup();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
