package io.lethe.capture.topics;

import io.lethe.capture.engine.ChangePublisher;
import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.capture.source.TableWatch;
import io.lethe.config.DebeziumTopicsConfig;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.Watermark;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.health.SigningKeyIds;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.retry.Retry;
import io.lethe.stage.trace.Tracing;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.InvalidOffsetException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code source.mode: debezium-topics}: instead of capturing, translates the topics an existing
 * Debezium PostgreSQL connector writes ({@code <connector prefix>.<schema>.<table>}, one per
 * configured table) into {@code <prefix>.changes}, where invalidation-streams and the regions read
 * them as they read capture's (docs/design.md, "Reading an existing Debezium stream").
 *
 * <p>The loop: read a batch; map each record ({@link EnvelopeMapper}); publish the changes and wait
 * for Kafka's acknowledgement ({@link ChangePublisher}, capture's own); dead-letter what is not a
 * change envelope and reset its table's namespaces (a change Lethe cannot read may have made any of
 * their entries stale); release the heartbeats every change before which is published
 * ({@link Watermarks}) as watermarks of the source's history; only then commit the read offsets. A
 * partition whose next change is gone (retention deleted it unread, or it is read for the first
 * time and its head was deleted) resets its table's namespaces before it is read from its beginning.
 * Kafka failing in the middle of a batch rewinds to the committed offsets ({@code Retry}).
 */
public final class DebeziumTopicsSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DebeziumTopicsSource.class);
    static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);
    /** The stage named in dead letters and metrics: this mode's capture. */
    static final String STAGE = "capture";
    static final int MAX_ENDS = 100_000;

    private final LetheConfig config;
    private final DebeziumTopicsConfig topics;
    private final Clock clock;
    private final EnvelopeMapper mapper;
    private final Misconfiguration misconfiguration;
    private final Map<String, SourceTable> tableByTopic = new LinkedHashMap<>();
    private TransactionStamps stamps;
    private final Counter translated;
    private final Counter deadLettered;
    /** One reset per namespace of a table whose changes were lost or unreadable. */
    private final TableResets tableResets;
    /** Maps, holds, dead-letters and publishes what was read; set at start. */
    private RecordIntake intake;
    private ChangePublisher publisher;
    private KafkaConsumer<byte[], byte[]> consumer;
    /** The connector's topics as this translator reads them: assignment, commits, back-pressure. */
    private ConnectorTopics reading;
    private Thread thread;
    private volatile boolean running;
    private volatile boolean closed;
    private volatile Throwable failure;
    /** The LSNs translated and published: for resets, and what a heartbeat vouches for. */
    private final Coverage coverage = new Coverage();
    /** The heartbeats held, and the watermarks they become, in the source's history. */
    private final Watermarks watermarks = new Watermarks(coverage);
    private Tracing tracing = Tracing.OFF;
    /** DDL on the configured tables, checked before every watermark. */
    private final TableWatch watch;
    /** Where the watch keeps the state it relies on, for the next translator. */
    private final WatchStateTopic watchState;
    /** Whether the last check of the tables vouches for the source: watermarks are published only then. */
    private boolean vouched;
    /** Whether the batch being processed read a heartbeat: it is released only after a check that started after. */
    private boolean heartbeatRead;

    /** Samples translated changes for tracing (tracing.* of lethe.yml), as capture does. Call before {@link #start()}. */
    public DebeziumTopicsSource tracing(Tracing tracing) {
        this.tracing = tracing;
        return this;
    }

    public DebeziumTopicsSource(LetheConfig config, MeterRegistry registry, Clock clock) {
        if (!config.source().readsDebeziumTopics()) {
            throw new IllegalArgumentException("source.mode is not debezium-topics");
        }
        this.config = config;
        this.stamps = new TransactionStamps(MAX_ENDS, config.tables());
        this.topics = config.source().debeziumTopics();
        this.clock = clock;
        this.mapper = new EnvelopeMapper(ChangeEventMapper.forForeignConnector(ColumnProjection.of(config), config.source().region(), clock,
                topics.unavailablePlaceholder()), topics);
        this.misconfiguration = new Misconfiguration(registry, STAGE);
        SigningKeyIds.register(registry, STAGE, config.streams().signingKeys(), true, false);
        for (String table : config.tables()) {
            tableByTopic.put(topics.topicOf(table), config.sourceTable(table));
        }
        this.translated = Counter.builder("lethe.capture.debezium.records").tag("outcome", "translated").register(registry);
        this.deadLettered = Counter.builder("lethe.capture.debezium.records").tag("outcome", "dead-lettered").register(registry);
        this.tableResets = new TableResets(config, Counter.builder("lethe.capture.debezium.resets").register(registry), clock);
        this.watchState = new WatchStateTopic(config, KAFKA_TIMEOUT);
        this.watch = new TableWatch(config, registry, watchState);
    }

    /** Checks the topics Lethe writes, then starts translating on a thread of its own. */
    public void start() {
        TopicSetup.ensure(config, KafkaRole.CAPTURE,
                List.of(config.topics().changes(), config.topics().dlq(), config.topics().captureOffsets()), KAFKA_TIMEOUT);
        publisher = new ChangePublisher(config, clock, misconfiguration, () -> {
        }, () -> {
        }, tracing);
        consumer = ConnectorTopics.consumer(config);
        reading = new ConnectorTopics(config, tableByTopic, consumer);
        intake = new RecordIntake(topics, mapper, tableByTopic, reading, consumer, new Rejects(publisher, deadLettered, clock), tableResets,
                coverage, translated);
        for (String limit : ModeLimits.of(config)) {
            LOG.warn("source.mode debezium-topics: {}", limit);
        }
        // the state of the tables the watch relies on from now: read (and what hides changes already, reset) before start() returns
        try {
            checkTables();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting", e);
        }
        running = true;
        thread = new Thread(this::run, "lethe-debezium-topics");
        thread.setDaemon(true);
        thread.start();
        LOG.info("translating the Debezium topics {} (heartbeats {}) -> {}", tableByTopic.keySet(), topics.heartbeatTopic(),
                config.topics().changes());
    }

    public boolean isRunning() {
        return running && thread != null && thread.isAlive();
    }

    /** True when it stopped by itself (not by close). */
    public boolean isStopped() {
        return !closed && thread != null && !thread.isAlive();
    }

    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    public Optional<Failure> misconfigured() {
        return misconfiguration.current();
    }

    /** True while a condition of the configured tables hides changes (their namespaces reset every 10 s; health DOWN, as for capture). */
    public boolean tablesHideChanges() {
        return watch.hidesChanges();
    }

    private void run() {
        // Kafka failed in the middle of a batch (a timeout, a broker away): what was not committed is read again from the
        // committed offsets (published twice is harmless: every stage is idempotent); never given up while it runs
        Retry<KafkaException> retry = Retry.of(LOG, new Backoff(config.apply().retryBackoffMax(), config.apply().retryBackoffMax()),
                "translating the Debezium topics (Kafka failed: reading again from the committed offsets)").whileRunning(() -> running)
                .onFailure(KafkaException.class, (e, attempt) -> forget()).passing(WakeupException.class);
        try {
            while (running) {
                retry.run(this::step);
            }
        } catch (WakeupException e) {
            if (running) {
                failure = e;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("translating the Debezium topics stopped", e);
        } finally {
            running = false;
        }
    }

    /** One read: a batch polled, translated and published, its watermark, the commit. */
    private void step() throws InterruptedException {
        try {
            reading.refresh(this::lost);
            if (consumer.assignment().isEmpty()) {
                // started before the connector made any of its topics: nothing to read yet (polling would fail), but the
                // tables are watched all the same
                Thread.sleep(100);
                process(ConsumerRecords.empty());
                return;
            }
            ConsumerRecords<byte[], byte[]> records;
            try {
                records = consumer.poll(Duration.ofMillis(100));
            } catch (InvalidOffsetException e) {
                lost(e.partitions(), "its next record is no longer in Kafka (deleted by retention before Lethe read it)");
                return;
            }
            process(records);
        } catch (InvalidOffsetException e) {
            throw new IllegalStateException("no offset to read from: " + e.getMessage(), e); // not a failure a rewind mends
        }
    }

    private void process(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
        intake.hold(records, stamps, watermarks.gate(), this::lost, () -> heartbeatRead = true);
        intake.publishReleased(stamps, publisher);
        checkTables();
        Optional<Watermark> w = vouched
                ? watermarks.release(tp -> stamps.next(tp, consumer.position(tp, KAFKA_TIMEOUT)))
                : Optional.empty();
        if (w.isPresent()) {
            publisher.publishWatermark(w.get());
        }
        reading.commit(stamps);
        reading.backPressure(stamps);
    }

    /**
     * Checks the configured tables for DDL ({@link TableWatch}) after a batch that read a heartbeat
     * (so every heartbeat is released after a check that started after it was read), and otherwise
     * every heartbeat interval (every second while the last check could not vouch); publishes the
     * resets it asks for, after everything published so far.
     */
    private void checkTables() throws InterruptedException {
        if (!heartbeatRead && !watch.due(vouched ? config.source().heartbeatInterval() : Duration.ofSeconds(1))) {
            return;
        }
        heartbeatRead = false;
        TableWatch.Verdict v = watch.check();
        if (!v.reset().isEmpty()) {
            Set<SourceTable> tables = new LinkedHashSet<>();
            v.reset().forEach(t -> tables.add(config.sourceTable(t)));
            publisher.publishAll(tableResets.wholesale(tables, coverage.maxLsn()));
        }
        watch.relyOn(v);
        vouched = v.vouches();
        watermarks.history(v.history(), reading::changeEnds);
    }

    /** After Kafka failed in the middle of a batch: forgets everything not committed; the next attempt reads it again. */
    private void forget() {
        stamps = new TransactionStamps(MAX_ENDS, config.tables());
        watermarks.forget();
        reading.seekCommitted(); // where the consumer reads from: no request to Kafka
    }

    /** Resets the tables of {@code partitions}, whose changes were lost, and reads them from their beginning. */
    private void lost(Set<TopicPartition> partitions, String why) throws InterruptedException {
        Set<SourceTable> tables = new LinkedHashSet<>();
        for (TopicPartition tp : partitions) {
            SourceTable table = tableByTopic.get(tp.topic());
            if (table != null) {
                tables.add(table);
            }
        }
        LOG.warn("Debezium topic partitions {}: {}; the namespaces of {} are reset", partitions, why, tables);
        publisher.publishAll(tableResets.wholesale(tables, coverage.maxLsn()));
        consumer.seekToBeginning(partitions);
    }

    @Override
    public void close() {
        closed = true;
        running = false;
        if (thread != null) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (consumer != null) {
            consumer.close(Duration.ofSeconds(5));
        }
        if (publisher != null) {
            publisher.close();
        }
        watch.close();
        watchState.close();
    }
}
