package io.lethe.region;

import io.lethe.config.ApplyConfig;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.Patterns;
import io.lethe.config.RegionConfig;
import io.lethe.config.kafka.KafkaClients;
import io.lethe.config.kafka.TopicSetup;
import io.lethe.region.apply.AppliedListener;
import io.lethe.region.apply.BatchPlan;
import io.lethe.region.apply.RedisApplier;
import io.lethe.region.gate.ReplicaGate;
import io.lethe.region.probe.StalenessProber;
import io.lethe.region.restore.RestoreGuard;
import io.lethe.region.metrics.RegionMetrics;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Scope;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.serde.EventJson;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One region's consumer: reads {@code lethe.invalidations.<region>} in a consumer group, applies
 * each poll batch to the region's Redis (highest version per key, pipelined EVALSHA), waits for
 * every reply, and only then commits the batch's offsets. A Redis failure pauses the partitions
 * and retries the same batch with backoff, staying in the group; lag grows and is visible;
 * nothing is skipped. Events that can never be applied go to the DLQ with their reason.
 */
public final class RegionConsumerService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegionConsumerService.class);

    private final LetheConfig config;
    private final RegionConfig region;
    private final ApplyConfig apply;
    private final Clock clock;
    private final MeterRegistry registry;
    private final RegionMetrics metrics;
    private final List<AppliedListener> listeners = new CopyOnWriteArrayList<>();
    private final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    /** Applied offsets wait in {@link #pending} at most this long before they are committed. */
    private long commitIntervalNanos;
    private long lastCommit = System.nanoTime();
    private final Set<TopicPartition> revokedDuringBatch = new HashSet<>();
    private final Thread thread;
    private volatile boolean running;
    private volatile boolean retrying;
    private volatile long appliedBatches;
    private volatile Throwable failure;
    private long lastAppliedCommitMicros;
    /** Records of the batch being applied: fetched, so not in the consumer's lag, but not applied yet. */
    private volatile int inFlight;
    private KafkaConsumer<String, byte[]> consumer;
    private KafkaProducer<String, byte[]> dlqProducer;
    private KafkaClientMetrics consumerMetrics;
    private RegionRedis redis;
    private RedisApplier applier;
    private ReplicaGate gate;
    private StalenessProber prober;
    /** Notices a Redis (or a cluster master) that came back without applied writes. */
    private RestoreGuard restoreGuard;
    private long lastRestoreCheck;
    private static final long RESTORE_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Beyond the longest fence TTL: how far back an empty or restored Redis is replayed at least. */
    private static final Duration RESTORE_MARGIN = Duration.ofSeconds(10);
    /** Applied batches waiting for the replica to replay past them, oldest first (replica gate only). */
    private final java.util.ArrayDeque<GatedBatch> gated = new java.util.ArrayDeque<>();
    private boolean gatePaused;
    /** Most batches held for the replica before fetching pauses (lag then grows visibly). */
    private static final int MAX_GATED_BATCHES = 2000;

    /** A batch applied once, to be applied again when the replica has replayed {@code maxLsn}. */
    private record GatedBatch(BatchPlan plan, Map<TopicPartition, OffsetAndMetadata> offsets, long maxLsn) {
    }

    public RegionConsumerService(LetheConfig config, String regionName, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.region = config.region(regionName);
        this.apply = config.apply();
        this.clock = clock;
        this.registry = registry;
        this.metrics = new RegionMetrics(registry, region.name());
        this.thread = new Thread(this::loop, "lethe-region-" + region.name());
    }

    /** The group id of this region's consumers. */
    public static String groupId(LetheConfig config, String region) {
        return config.apply().groupPrefix() + region;
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
        TopicSetup.ensure(config.kafka(), List.of(config.topics().invalidations(region.name()), config.topics().dlq()),
                Duration.ofSeconds(60));
        redis = new RegionRedis(region, apply.connections(), apply.commandTimeout());
        loadScriptsWithRetry();
        applier = new RedisApplier(redis, config.namespaces(), metrics, apply.commandTimeout(),
                apply.patternScanCount(), apply.patternKeysPerSecond());
        restoreGuard = new RestoreGuard(redis, groupId(config, region.name()));
        Map<String, Object> props = KafkaClients.common(config.kafka(), "lethe-region-" + region.name());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(config, region.name()));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // never reset silently: a missing or out-of-range offset reaches poll() (see startFromLogStart)
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, apply.maxPollRecords());
        commitIntervalNanos = apply.commitInterval().toNanos();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 300_000);
        // a dead consumer's partitions move to the region's other consumers after 10 s, not Kafka's 45 s
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2_000);
        consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        Map<String, Object> producerProps = KafkaClients.common(config.kafka(), "lethe-region-" + region.name() + "-dlq");
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        dlqProducer = new KafkaProducer<>(producerProps, new StringSerializer(), new ByteArraySerializer());
        if (region.hasReplicaGate()) {
            gate = new ReplicaGate(config, region, apply, registry);
        }
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

    private void loadScriptsWithRetry() {
        Duration backoff = apply.retryBackoffMin();
        for (int attempt = 1; ; attempt++) {
            try {
                redis.loadScripts();
                metrics.up(true);
                return;
            } catch (RuntimeException e) {
                if (attempt >= 5) {
                    // keep starting: the consumer loop retries every batch until Redis answers
                    LOG.warn("region {}: cannot load scripts into Redis {} yet ({}); will retry per batch",
                            region.name(), redis.display(), e.toString());
                    metrics.up(false);
                    return;
                }
                sleepQuietly(backoff);
                backoff = next(backoff);
            }
        }
    }

    /** True while the loop runs. */
    public boolean isRunning() {
        return running && thread.isAlive();
    }

    /** True while a batch is being retried because Redis failed. */
    public boolean isRetrying() {
        return retrying;
    }

    /** Batches applied and committed since start. */
    public long appliedBatches() {
        return appliedBatches;
    }

    /** The error that ended the loop, if one did. */
    public Throwable failure() {
        return failure;
    }

    /** PING this region's Redis. */
    public boolean redisReachable() {
        return redis != null && redis.ping();
    }

    private void loop() {
        try {
            consumer.subscribe(List.of(config.topics().invalidations(region.name())), new Rebalance());
            while (running) {
                ConsumerRecords<String, byte[]> records = poll(Duration.ofMillis(100));
                if (!records.isEmpty()) {
                    process(records);
                }
                releaseGated();
                if (System.nanoTime() - lastRestoreCheck >= RESTORE_CHECK_NANOS) {
                    guardRestore();
                }
                if (System.nanoTime() - lastCommit >= commitIntervalNanos) {
                    commitPending();
                    lastCommit = System.nanoTime();
                }
                updateLag();
            }
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
                commitPending();
            } catch (RuntimeException ignored) {
                // closing: whatever was applied but not committed is applied again by the next owner
            }
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void process(ConsumerRecords<String, byte[]> records) throws InterruptedException {
        revokedDuringBatch.clear();
        inFlight = records.count();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        List<InvalidationEvent> events = new ArrayList<>(records.count());
        for (ConsumerRecord<String, byte[]> r : records) {
            offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
            InvalidationEvent event;
            try {
                event = EventJson.readInvalidation(r.value());
            } catch (SchemaViolationException e) {
                deadLetter(r, DlqReason.MALFORMED, e.getMessage());
                continue;
            }
            String refusal = refusal(event);
            if (refusal != null) {
                deadLetter(r, refusal.startsWith("unknown") ? DlqReason.UNKNOWN_NAMESPACE : DlqReason.MATCH_ALL_PATTERN, refusal);
                continue;
            }
            events.add(event);
        }
        BatchPlan plan = BatchPlan.of(events);
        Map<String, Integer> results = applyWithRetry(plan);
        if (results == null) {
            return;
        }
        inFlight = 0;
        long now = nowMicros();
        for (InvalidationEvent e : events) {
            metrics.latency(now - e.commitTs());
            lastAppliedCommitMicros = Math.max(lastAppliedCommitMicros, e.commitTs());
        }
        results.forEach(metrics::applied);
        metrics.applied("superseded", plan.superseded());
        metrics.batch(events.size());
        offsets.keySet().removeAll(revokedDuringBatch);
        offsets.keySet().retainAll(consumer.assignment());
        if (gate != null) {
            // a standby shows a change only once it replayed its transaction's COMMIT, not the change itself
            long maxLsn = events.stream().mapToLong(InvalidationEvent::visibleAfter).max().orElse(0);
            gated.addLast(new GatedBatch(plan, offsets, maxLsn));
            gate.applied(maxLsn);
        } else {
            pending.putAll(offsets);
        }
        appliedBatches++;
        for (AppliedListener listener : listeners) {
            try {
                listener.applied(events);
            } catch (RuntimeException e) {
                LOG.warn("region {}: listener {} failed: {}", region.name(), listener.getClass().getSimpleName(), e.toString());
            }
        }
    }

    /**
     * Replica gate: re-applies, oldest first, every batch the replica has replayed past, and only
     * then lets its offsets be committed. A crash before that re-delivers the batch, which is
     * gated again: nothing a lagging replica could refill survives the replica's lag.
     */
    private void releaseGated() throws InterruptedException {
        if (gate == null) {
            return;
        }
        while (!gated.isEmpty() && gate.replayed() >= gated.peekFirst().maxLsn()) {
            GatedBatch batch = gated.peekFirst();
            Map<String, Integer> results = applyWithRetry(batch.plan());
            if (results == null) {
                return;
            }
            metrics.reapplied(batch.plan().keys().size() + batch.plan().patterns().size());
            gated.removeFirst();
            pending.putAll(batch.offsets());
        }
        if (!gatePaused && gated.size() >= MAX_GATED_BATCHES) {
            consumer.pause(consumer.assignment());
            gatePaused = true;
            LOG.warn("region {}: {} batches wait for the replica to replay; fetching paused", region.name(), gated.size());
        } else if (gatePaused && gated.size() < MAX_GATED_BATCHES / 2) {
            consumer.resume(consumer.assignment());
            gatePaused = false;
        }
        metrics.gated(gated.size());
    }

    /** Why an event must not be applied here, or null. */
    private String refusal(InvalidationEvent e) {
        NamespaceConfig ns = config.namespaces().get(e.namespace());
        if (ns == null) {
            return "unknown namespace '" + e.namespace() + "' (not in " + config.file() + ")";
        }
        if (e.scope() == Scope.PATTERN) {
            if (Patterns.matchesEverything(e.pattern())) {
                return "pattern '" + e.pattern() + "' matches every key in Redis";
            }
            if (!ns.allowNamespaceWide() && ns.keys().stream().anyMatch(k -> k.glob().equals(e.pattern()))) {
                return "pattern '" + e.pattern() + "' covers all of namespace " + ns.name()
                        + "; set allow-namespace-wide: true on it to permit that";
            }
        }
        return null;
    }

    /**
     * Applies the plan until Redis acknowledges it, pausing the partitions meanwhile.
     *
     * @return the results, or null when the service is closing before it could apply
     */
    private Map<String, Integer> applyWithRetry(BatchPlan plan) throws InterruptedException {
        Duration backoff = apply.retryBackoffMin();
        Set<TopicPartition> paused = Set.of();
        try {
            while (true) {
                try {
                    Map<String, Integer> results = applier.apply(plan);
                    metrics.up(true);
                    return results;
                } catch (RedisApplier.RetryableFailure e) {
                    metrics.retry(e.kind());
                    metrics.up(false);
                    if (!retrying) {
                        LOG.warn("region {}: applying {} invalidations failed ({}); retrying the batch, nothing is "
                                + "committed until Redis acknowledges it", region.name(), plan.keys().size() + plan.patterns().size(), e.getMessage());
                    }
                    retrying = true;
                    paused = new HashSet<>(consumer.assignment());
                    consumer.pause(paused);
                    if (!waitPolling(backoff)) {
                        return null;
                    }
                    backoff = next(backoff);
                }
            }
        } finally {
            if (retrying) {
                LOG.info("region {}: Redis answers again; batch applied", region.name());
            }
            retrying = false;
            if (!gatePaused) {
                consumer.resume(consumer.paused());
            }
        }
    }

    /** Waits, polling with every partition paused so the consumer stays in its group. */
    private boolean waitPolling(Duration wait) {
        long until = System.nanoTime() + wait.toNanos();
        while (running && System.nanoTime() < until) {
            ConsumerRecords<String, byte[]> stray;
            try {
                stray = poll(Duration.ofMillis(Math.min(100, wait.toMillis())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            // Partitions assigned during the wait are paused in onPartitionsAssigned; should any
            // record slip through, rewind so it is read again after this batch.
            for (TopicPartition tp : stray.partitions()) {
                consumer.seek(tp, stray.records(tp).get(0).offset());
            }
            updateLag();
        }
        return running;
    }

    private void commitPending() {
        if (pending.isEmpty()) {
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>(pending);
        commit.keySet().retainAll(consumer.assignment());
        try {
            if (!commit.isEmpty()) {
                consumer.commitSync(commit, Duration.ofSeconds(10));
                checkpoint(commit);
            }
            pending.clear();
        } catch (CommitFailedException e) {
            // the partitions moved to another member, which will apply those records again
            pending.clear();
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (KafkaException e) {
            metrics.retry("commit");
            LOG.warn("region {}: committing offsets failed ({}); will retry", region.name(), e.toString());
        }
    }

    /**
     * {@code consumer.poll}, where a partition without a committed offset, or with one outside
     * its log, is started from the log's start instead of Kafka resetting it silently.
     */
    private ConsumerRecords<String, byte[]> poll(Duration timeout) throws InterruptedException {
        try {
            return consumer.poll(timeout);
        } catch (org.apache.kafka.clients.consumer.NoOffsetForPartitionException e) {
            startFromLogStart(e.partitions(), false);
        } catch (org.apache.kafka.clients.consumer.OffsetOutOfRangeException e) {
            startFromLogStart(e.offsetOutOfRangePartitions().keySet(), true);
        }
        return ConsumerRecords.empty();
    }

    /**
     * Reads {@code partitions} from their log's start. When records this region never applied
     * are gone (its offset fell below the log start, or it never read a log that retention already
     * cut), the invalidations they held are unknown: the region's namespaces are invalidated
     * wholesale first. A first start on a log that still holds everything replays it all instead.
     */
    private void startFromLogStart(java.util.Collection<TopicPartition> partitions, boolean outOfRange) throws InterruptedException {
        Map<TopicPartition, Long> starts;
        try {
            starts = consumer.beginningOffsets(partitions);
        } catch (KafkaException e) {
            // the partitions keep no position: the next poll raises the same and this runs again
            LOG.warn("region {}: cannot read the log start of {} yet ({}); retrying", region.name(), partitions, e.toString());
            return;
        }
        boolean lost = outOfRange || starts.values().stream().anyMatch(start -> start > 0);
        consumer.seekToBeginning(partitions);
        if (!lost) {
            return;
        }
        LOG.error("region {}: records of {} were deleted before this region applied them (its offset {} the log, which now starts at {}); "
                        + "invalidating namespaces {} wholesale and reading from the log's start", region.name(), partitions,
                outOfRange ? "is outside" : "was never committed for", starts, region.namespaces());
        if (applyWithRetry(BatchPlan.of(wholesale("offsets-lost:" + clock.millis()))) != null) {
            metrics.offsetsLost(partitions.size());
        }
    }

    /** Records committed offsets in the region's Redis (see {@link RestoreGuard}); a failure only delays it. */
    private void checkpoint(Map<TopicPartition, OffsetAndMetadata> committed) {
        Map<Integer, Long> offsets = new HashMap<>();
        committed.forEach((tp, om) -> offsets.put(tp.partition(), om.offset()));
        try {
            restoreGuard.checkpoint(offsets);
        } catch (RuntimeException e) {
            LOG.debug("region {}: checkpoint not written ({}); the next commit writes it", region.name(), e.toString());
        }
    }

    /**
     * When the region's Redis came back without writes Lethe had applied, makes them good again:
     * seeks every assigned partition back to the restored data's checkpoint and at least the
     * longest fence TTL back (fences readers in flight rely on were lost too), commits that
     * position first (a crash then replays from it), invalidates the namespaces wholesale when
     * the data's position is unknown, and only then adopts the new server.
     */
    private void guardRestore() throws InterruptedException {
        lastRestoreCheck = System.nanoTime();
        Optional<RestoreGuard.Restore> found;
        try {
            found = restoreGuard.check();
        } catch (RuntimeException e) {
            return; // Redis does not answer: the apply path retries and reports it
        }
        if (found.isEmpty()) {
            return;
        }
        RestoreGuard.Restore restore = found.get();
        Set<TopicPartition> assigned = new HashSet<>(consumer.assignment());
        long since = clock.millis() - replayWindow().toMillis();
        Map<TopicPartition, Long> times = new HashMap<>();
        assigned.forEach(tp -> times.put(tp, since));
        Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndTimestamp> byTime;
        Map<TopicPartition, Long> ends;
        try {
            byTime = consumer.offsetsForTimes(times);
            ends = consumer.endOffsets(assigned);
        } catch (KafkaException e) {
            // not adopted yet: the next check finds the same restore and tries again
            LOG.warn("region {}: Redis lost applied writes, but Kafka cannot say where to replay from yet ({}); retrying",
                    region.name(), e.toString());
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> rewound = new HashMap<>();
        for (TopicPartition tp : assigned) {
            var atTime = byTime.get(tp);
            long target = atTime != null ? atTime.offset() : ends.getOrDefault(tp, 0L);
            if (!restore.checkpoint().isEmpty()) {
                // a partition the restored checkpoint does not know was never committed in that data: from the start
                target = Math.min(target, restore.checkpoint().getOrDefault(tp.partition(), 0L));
            }
            rewound.put(tp, new OffsetAndMetadata(target));
        }
        String action = restore.wholesale() ? "wholesale" : restore.checkpoint().isEmpty() ? "replayed-fence-window" : "replayed-checkpoint";
        LOG.error("region {}: Redis {} is not the server Lethe last applied to ({}; {} keys, checkpoint {}): "
                        + "it lost applied writes; replaying from {}{}", region.name(), redis.display(), restore.nodes(),
                restore.keys(), restore.checkpoint(), rewound,
                restore.wholesale() ? " and invalidating namespaces " + region.namespaces() + " wholesale" : "");
        rewound.forEach((tp, om) -> {
            consumer.seek(tp, om);
            pending.remove(tp);
        });
        Duration backoff = apply.retryBackoffMin();
        while (running) {
            try {
                consumer.commitSync(rewound, Duration.ofSeconds(10));
                break;
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                metrics.retry("commit");
                Thread.sleep(backoff.toMillis());
                backoff = next(backoff);
            }
        }
        if (restore.wholesale() && applyWithRetry(BatchPlan.of(wholesale("restore:" + restore.id()))) == null) {
            return; // closing: the next start finds the same restore
        }
        try {
            restoreGuard.adopt(restore);
        } catch (RuntimeException e) {
            return; // noticed again at the next check; replaying twice is harmless
        }
        metrics.redisRestored(action);
    }

    /** The longest fence TTL of the region's namespaces, plus a margin. */
    private Duration replayWindow() {
        return region.namespaces().stream().map(ns -> config.namespaces().get(ns).fenceTtl())
                .max(Duration::compareTo).orElse(Duration.ZERO).plus(RESTORE_MARGIN);
    }

    /** Namespace-wide invalidations of every namespace of the region, deleting whatever is there. */
    private List<InvalidationEvent> wholesale(String why) {
        List<InvalidationEvent> events = new ArrayList<>();
        long now = nowMicros();
        for (String name : region.namespaces()) {
            for (String glob : config.namespaces().get(name).namespaceGlobs()) {
                events.add(new InvalidationEvent(InvalidationEvent.SCHEMA_ID, why + ":" + name + ":" + glob, name,
                        Scope.NAMESPACE, null, glob, io.lethe.schemas.Action.DELETE, null, io.lethe.schemas.Versions.MAX, 0, null, now, now,
                        now, null,
                        io.lethe.schemas.Op.RESET, null, null));
            }
        }
        return events;
    }

    private void updateLag() {
        long lag = inFlight;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) {
                lag += l.getAsLong();
            }
        }
        long lagMillis = lastAppliedCommitMicros == 0 ? 0 : Math.max(0, nowMicros() - lastAppliedCommitMicros) / 1000;
        metrics.lag(lag, lagMillis);
    }

    private void deadLetter(ConsumerRecord<String, byte[]> r, DlqReason reason, String error) throws InterruptedException {
        ProducerRecord<String, byte[]> out = new ProducerRecord<>(config.topics().dlq(), r.key(), r.value());
        put(out, Headers.DLQ_REASON, reason.code());
        put(out, Headers.DLQ_ERROR, error);
        put(out, Headers.DLQ_STAGE, "region:" + region.name());
        put(out, Headers.DLQ_SOURCE_TOPIC, r.topic());
        put(out, Headers.DLQ_SOURCE_PARTITION, Integer.toString(r.partition()));
        put(out, Headers.DLQ_SOURCE_OFFSET, Long.toString(r.offset()));
        put(out, Headers.DLQ_TIMESTAMP, Long.toString(clock.millis()));
        Duration backoff = apply.retryBackoffMin();
        while (true) {
            try {
                dlqProducer.send(out).get(30, TimeUnit.SECONDS);
                break;
            } catch (ExecutionException | java.util.concurrent.TimeoutException | KafkaException e) {
                metrics.retry("dlq");
                LOG.warn("region {}: dead-lettering failed ({}); retrying", region.name(), e.toString());
                Thread.sleep(backoff.toMillis());
                backoff = next(backoff);
            }
        }
        metrics.deadLettered(reason.code());
        LOG.warn("region {}: dead-lettered {}-{}@{} ({}): {}", region.name(), r.topic(), r.partition(), r.offset(), reason.code(), error);
    }

    private static void put(ProducerRecord<String, byte[]> record, String name, String value) {
        record.headers().add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private Duration next(Duration backoff) {
        Duration doubled = backoff.multipliedBy(2);
        return doubled.compareTo(apply.retryBackoffMax()) > 0 ? apply.retryBackoffMax() : doubled;
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private long nowMicros() {
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Commit only what was applied; a batch still being retried is left to the next owner.
            Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata offset = pending.remove(tp);
                if (offset != null) {
                    commit.put(tp, offset);
                }
            }
            revokedDuringBatch.addAll(partitions);
            if (!commit.isEmpty()) {
                try {
                    consumer.commitSync(commit, Duration.ofSeconds(10));
                } catch (KafkaException e) {
                    LOG.warn("region {}: commit on revocation failed ({}); the next owner re-applies", region.name(), e.toString());
                }
            }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (retrying || gatePaused) {
                consumer.pause(partitions);
            }
        }
    }

    @Override
    public void close() {
        if (prober != null) {
            prober.close();
        }
        running = false;
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
        if (gate != null) {
            gate.close();
        }
        if (redis != null) {
            redis.close();
        }
    }
}
