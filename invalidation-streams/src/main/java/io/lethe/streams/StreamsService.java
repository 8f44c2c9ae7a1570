package io.lethe.streams;

import io.lethe.config.LetheConfig;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.failure.KafkaFailures;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.health.SigningKeyIds;
import io.lethe.config.StreamsConfig;
import io.lethe.config.KafkaClients;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.streams.metrics.StreamsMetrics;
import io.lethe.streams.retention.RetentionGuard;
import io.lethe.streams.topology.InvalidationTopology;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * invalidation-streams: runs {@link InvalidationTopology} with Kafka Streams. Topics are created
 * before start; a stream thread that dies (a topic deleted under it, a broker gone too long) has
 * its topics re-ensured and is replaced, so a missing topic never shuts the application down.
 */
public final class StreamsService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StreamsService.class);
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(60);

    private final LetheConfig config;
    private final MeterRegistry registry;
    private final Clock clock;
    private final String instanceId;
    private final AtomicReference<KafkaStreams.State> state = new AtomicReference<>(KafkaStreams.State.CREATED);
    private KafkaStreams streams;
    private KafkaStreamsMetrics clientMetrics;
    private RetentionGuard retention;
    private final Misconfiguration misconfiguration;
    private StreamsMetrics metrics;
    private io.lethe.stage.trace.Tracing tracing = io.lethe.stage.trace.Tracing.OFF;

    /** Continues the traces of sampled changes with {@code tracing} (tracing.* of lethe.yml); call before {@code start()}. */
    public StreamsService tracing(io.lethe.stage.trace.Tracing tracing) {
        this.tracing = tracing;
        return this;
    }

    /**
     * @param instanceId distinguishes instances of one application (client id suffix); any string
     */
    public StreamsService(LetheConfig config, MeterRegistry registry, Clock clock, String instanceId) {
        this.config = config;
        this.registry = registry;
        this.clock = clock;
        this.instanceId = instanceId;
        this.misconfiguration = new Misconfiguration(registry, "streams");
        // streams verifies capture's changes and watermarks and signs what it writes
        SigningKeyIds.register(registry, "streams", config.streams().signingKeys(), true, true);
    }

    /** The Kafka Streams settings for {@code lethe.yml}. */
    public static Properties properties(LetheConfig config, String instanceId) {
        StreamsConfig s = config.streams();
        Properties p = new Properties();
        Map<String, Object> common = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.STREAMS,
                s.applicationId() + "-" + instanceId);
        common.forEach(p::put);
        p.put(org.apache.kafka.streams.StreamsConfig.APPLICATION_ID_CONFIG, s.applicationId());
        p.put(org.apache.kafka.streams.StreamsConfig.PROCESSING_GUARANTEE_CONFIG, s.processingGuarantee());
        p.put(org.apache.kafka.streams.StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, s.commitInterval().toMillis());
        p.put(org.apache.kafka.streams.StreamsConfig.NUM_STREAM_THREADS_CONFIG, s.threads());
        p.put(org.apache.kafka.streams.StreamsConfig.POLL_MS_CONFIG, idlePoll(s.commitInterval()).toMillis());
        // Streams' own default linger is 100 ms: far too slow for invalidations.
        p.put(org.apache.kafka.streams.StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), s.linger().toMillis());
        p.put(org.apache.kafka.streams.StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
        // A dead instance's partitions move to the others after this long (Kafka's default is 45 s).
        p.put(org.apache.kafka.streams.StreamsConfig
                .consumerPrefix(org.apache.kafka.clients.consumer.ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        p.put(org.apache.kafka.streams.StreamsConfig
                .consumerPrefix(org.apache.kafka.clients.consumer.ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 2_000);
        // The group coordinator waits this long (the rebalance timeout) for a member that died between
        // JoinGroup and SyncGroup, holding every partition meanwhile; Streams' default is 5 minutes.
        // The topology is stateless and each poll's work is small, so 30 s is ample.
        p.put(org.apache.kafka.streams.StreamsConfig
                .consumerPrefix(org.apache.kafka.clients.consumer.ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG), 30_000);
        // Kafka Streams 4.x asks for this explicitly; the topology has no global state, so it changes nothing
        p.put("processing.exception.handler.global.enabled", true);
        if (s.stateDir() != null) {
            p.put(org.apache.kafka.streams.StreamsConfig.STATE_DIR_CONFIG, s.stateDir());
        }
        return p;
    }

    /**
     * How long an idle stream thread waits for records (Streams' {@code poll.ms}, 100 ms by default): half
     * the commit interval, from 100 to 500 ms. Records end the wait at once, so it only sets how often an
     * idle thread wakes and how far past its interval an idle commit may fall (under exactly_once_v2's
     * 100 ms, as before).
     */
    static java.time.Duration idlePoll(java.time.Duration commitInterval) {
        long half = commitInterval.toMillis() / 2;
        return java.time.Duration.ofMillis(Math.max(100, Math.min(500, half)));
    }

    public synchronized void start() {
        TopicSetup.ensure(config, io.lethe.config.KafkaRole.STREAMS, TopicSetup.pipelineTopics(config), KAFKA_TIMEOUT);
        // also when Lethe created the topics: a request topic grown alone would be routed outside a topic move's proof
        TopicSetup.requireCoPartitioned(config, io.lethe.config.KafkaRole.STREAMS, KAFKA_TIMEOUT);
        if (retention == null) {
            // before Streams runs: it would reset an offset below the log start to the start without a word
            retention = new RetentionGuard(config, registry, clock);
            retention.start();
        }
        if (metrics == null) {
            metrics = new StreamsMetrics(registry); // once: its gauges keep reading this instance's state across restarts
        }
        Topology topology = InvalidationTopology.build(config, metrics, clock, tracing);
        streams = new KafkaStreams(topology, properties(config, instanceId));
        KafkaStreams current = streams;
        String changes = config.topics().changes();
        metrics.assignedPartitions(() -> assignedChangesPartitions(current, changes));
        streams.setStateListener((now, before) -> {
            state.set(now);
            if (now == KafkaStreams.State.RUNNING && before == KafkaStreams.State.REBALANCING) {
                misconfiguration.clear();
            }
            LOG.info("invalidation-streams {} -> {}", before, now);
        });
        streams.setUncaughtExceptionHandler(e -> {
            Failure failure = KafkaFailures.classify(e);
            if (failure.isFatal()) {
                misconfiguration.report(failure);
            } else {
                LOG.error("a stream thread failed; ensuring topics and replacing it", e);
            }
            try {
                TopicSetup.ensure(config, io.lethe.config.KafkaRole.STREAMS, TopicSetup.pipelineTopics(config), KAFKA_TIMEOUT);
            } catch (RuntimeException again) {
                LOG.warn("topics could not be ensured yet: {}", again.getMessage());
            }
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        clientMetrics = new KafkaStreamsMetrics(streams);
        clientMetrics.bindTo(registry);
        streams.start();
        LOG.info("invalidation-streams started: {} -> {} and {} per-region topics", config.topics().changes(),
                config.topics().invalidations(), config.regions().size());
    }

    /** The changes topic partitions this instance's threads process now; null when Streams cannot say. */
    private static java.util.Set<Integer> assignedChangesPartitions(KafkaStreams streams, String changes) {
        try {
            java.util.Set<Integer> out = new java.util.HashSet<>();
            streams.metadataForLocalThreads().forEach(thread -> thread.activeTasks().forEach(task -> task.topicPartitions().stream()
                    .filter(tp -> tp.topic().equals(changes)).forEach(tp -> out.add(tp.partition()))));
            return out;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** RUNNING or REBALANCING: the instance is processing or about to. */
    public boolean isRunning() {
        KafkaStreams.State s = state.get();
        return s == KafkaStreams.State.RUNNING || s == KafkaStreams.State.REBALANCING;
    }

    /** Running, and no configuration error (Kafka credentials or ACLs) reported since it last started running. */
    public boolean isHealthy() {
        return isRunning() && misconfiguration.current().isEmpty();
    }

    /** The configuration error that keeps streams from working, if one was reported. */
    public java.util.Optional<Failure> misconfigured() {
        return misconfiguration.current();
    }

    public KafkaStreams.State state() {
        return state.get();
    }

    @Override
    public synchronized void close() {
        if (retention != null) {
            retention.close();
            retention = null;
        }
        if (streams != null) {
            // leave the group: Streams stays in it by default, and the others (or this instance restarted) would wait out
            // the session timeout (10 s) for its partitions; the topology is stateless, so no state waits for it to return
            streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(30)));
            streams = null;
        }
        if (clientMetrics != null) {
            clientMetrics.close();
            clientMetrics = null;
        }
    }
}
