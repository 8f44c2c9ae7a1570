package io.lethe.streams.retention;

import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.KafkaClients;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Headers;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.mapping.InvalidationMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices changes, or purge requests ({@code <prefix>.invalidation-requests}), that retention deleted
 * before Streams mapped or routed them: the application's committed offset on the changes or the
 * request topic is below the log's start (at start-up, or checked every 30 s while it runs). Kafka
 * Streams would reset to the log's start and skip them without a word; their invalidations (the
 * keys the purges named) are unknown, so the guard publishes a {@code reset} of every namespace onto
 * the changes topic first (counted in {@link #OFFSETS_LOST}, per partition of either topic).
 *
 * <p>A check that runs between Streams' own reset and its next commit cannot see the gap; the
 * region consumers' own guard (their offsets never reset silently) and retention above
 * {@code kafka.outage-budget} (see {@code lethe doctor}) cover what this does not.
 */
public final class RetentionGuard implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RetentionGuard.class);
    /** Partitions of the changes or request topic whose unmapped changes or unrouted purges were deleted by retention. */
    public static final String OFFSETS_LOST = "lethe.streams.offsets.lost";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final LetheConfig config;
    private final Clock clock;
    private final Counter lost;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lethe-streams-retention-guard");
        t.setDaemon(true);
        return t;
    });
    /** The log start at which a gap was last reset, per partition: one reset per gap. */
    private final Map<TopicPartition, Long> resetAt = new HashMap<>();

    public RetentionGuard(LetheConfig config, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.lost = Counter.builder(OFFSETS_LOST)
                .description("partitions of the changes or request topic whose records were deleted unmapped")
                .register(registry);
    }

    /** Checks now (before Streams starts) and every 30 s after. */
    public void start() {
        check();
        timer.scheduleWithFixedDelay(this::check, 30, 30, TimeUnit.SECONDS);
    }

    /**
     * Counts a gap on every partition whose log starts past the application's committed offset, or
     * past 0 when the application never committed it: a new application id on a topic retention has
     * already cut, or a partition added to scale out whose changes were deleted before Streams was
     * assigned it (the topic's partitions are read at every check, never cached). Each gap once.
     */
    void check() {
        try (Admin admin = Admin
                .create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.STREAMS, "lethe-streams-retention"))) {
            Map<TopicPartition, OffsetAndMetadata> committed = GroupOffsets.committed(admin, config.streams().applicationId(), TIMEOUT);
            Map<TopicPartition, String> gaps = new LinkedHashMap<>();
            Map<TopicPartition, Long> starts = new HashMap<>();
            // a gap in the request topic loses purges as one in the changes topic loses changes: both reset wholesale
            for (String topic : List.of(config.topics().changes(), config.topics().invalidationRequests())) {
                starts.putAll(GroupOffsets.earliest(admin, GroupOffsets.partitions(admin, topic, TIMEOUT), TIMEOUT));
            }
            starts.forEach((tp, start) -> {
                OffsetAndMetadata c = committed.get(tp);
                // not GroupOffsets.next: a partition never committed has a gap as soon as its log no longer starts at 0
                // (the group would start at the log start and never see what retention deleted), not when it holds records
                boolean gap = c != null ? c.offset() < start : start > 0;
                if (gap && !start.equals(resetAt.get(tp))) {
                    gaps.put(tp, (c == null ? "never committed" : "committed " + c.offset()) + ", log starts at " + start);
                }
            });
            if (gaps.isEmpty()) {
                return;
            }
            LOG.error("changes or purge requests were deleted by retention before invalidation-streams mapped or routed them ({}); "
                    + "resetting every namespace {}", gaps, config.namespaces().keySet());
            publishResets();
            gaps.keySet().forEach(tp -> resetAt.put(tp, starts.get(tp)));
            lost.increment(gaps.size());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn("cannot compare invalidation-streams' offsets with the retention of {} and {}: {}", config.topics().changes(),
                    config.topics().invalidationRequests(), e.toString());
        }
    }

    private void publishResets() throws Exception {
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.STREAMS, "lethe-streams-retention");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        long now = clock.millis() * 1000;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            for (NamespaceConfig ns : config.namespaces().values()) {
                SourceTable table = new SourceTable(config.source().database(), ns.schemaName(), ns.tableName());
                ChangeEvent reset = new ChangeEvent(ChangeEvent.SCHEMA_ID, "retention:" + clock.millis() + ":reset:" + ns.name(), table,
                        Op.RESET, null, null, null, InvalidationMapper.MAX_VERSION, 0, null, now, now, ns.name(), config.source().region());
                byte[] value = EventJson.write(reset);
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(config.topics().changes(), reset.recordKey(), value);
                record.headers().add(Headers.SCHEMA, ChangeEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
                io.lethe.schemas.SigningKeys keys = config.streams().signingKeys();
                if (keys != null) {
                    // signed as capture signs changes (the current key only): streams maps an unsigned change into deletes only
                    // (a reset is one anyway)
                    keys.signer().addTo(record.headers(), reset.recordKey(), value);
                }
                producer.send(record).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
