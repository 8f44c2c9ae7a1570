package io.lethe.capture.topics;

import io.lethe.capture.engine.ChangePublisher;
import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.config.DebeziumTopicsConfig;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.kafka.KafkaClients;
import io.lethe.config.kafka.TopicSetup;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.Versions;
import io.lethe.schemas.Watermark;
import io.lethe.stage.dlq.DeadLetter;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.trace.Tracing;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.InvalidOffsetException;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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
 * ({@link WatermarkGate}) as watermarks; only then commit the read offsets. A partition whose next
 * change is gone (retention deleted it unread, or it is read for the first time and its head was
 * deleted) resets its table's namespaces before it is read from its beginning.
 */
public final class DebeziumTopicsSource implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DebeziumTopicsSource.class);
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration TOPIC_REFRESH = Duration.ofSeconds(5);
    /** The stage named in dead letters and metrics: this mode's capture. */
    static final String STAGE = "capture";
    private static final int MAX_ENDS = 100_000;

    private final LetheConfig config;
    private final DebeziumTopicsConfig topics;
    private final Clock clock;
    private final EnvelopeMapper mapper;
    private final Misconfiguration misconfiguration;
    private final Map<String, SourceTable> tableByTopic = new LinkedHashMap<>();
    private WatermarkGate gate = new WatermarkGate();
    private TransactionStamps stamps;
    private final Map<TopicPartition, Long> committedOffsets = new HashMap<>();
    private final Counter translated;
    private final Counter deadLettered;
    private final Counter resets;
    private ChangePublisher publisher;
    private KafkaConsumer<byte[], byte[]> consumer;
    private Thread thread;
    private volatile boolean running;
    private volatile boolean closed;
    private volatile Throwable failure;
    /** The highest LSN of a row change translated, for resets (which need one). */
    private long maxLsn;
    /** The highest LSN a published watermark claims: only grows. */
    private long coveredLsn;
    /** Per change partition, the offsets of translated row changes and their LSNs, kept until a heartbeat past them is released. */
    private final Map<TopicPartition, TreeMap<Long, Long>> lsnAt = new HashMap<>();
    private long lastRefresh;
    private Tracing tracing = Tracing.OFF;

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
        for (String table : config.tables()) {
            int dot = table.indexOf('.');
            tableByTopic.put(topics.topicOf(table), new SourceTable(config.source().database(), table.substring(0, dot), table.substring(dot + 1)));
        }
        this.translated = Counter.builder("lethe.capture.debezium.records").tag("outcome", "translated").register(registry);
        this.deadLettered = Counter.builder("lethe.capture.debezium.records").tag("outcome", "dead-lettered").register(registry);
        this.resets = Counter.builder("lethe.capture.debezium.resets").register(registry);
    }

    /** What this mode cannot know, said at start-up (docs/design.md, "Reading an existing Debezium stream"). */
    public static List<String> limits(LetheConfig config) {
        DebeziumTopicsConfig t = config.source().debeziumTopics();
        List<String> out = new ArrayList<>();
        if (t.transactionMetadata()) {
            out.add("commit LSNs come from the connector's transaction topic " + t.transactionTopic() + ": each change waits for "
                    + "its transaction's END there (a connector that stops writing it stops Lethe's changes: lag grows)");
        } else {
            out.add("no commit LSNs (transaction-metadata: false): no replica gate (refused by the configuration)");
        }
        out.add("a watermark vouches only for the highest LSN of a change the connector wrote before its heartbeat (a Debezium "
                + "heartbeat carries no position): read-your-writes tokens are covered later, and not at all while no change "
                + "flows, so such reads go to the database");
        out.add("the slot, the publication, REPLICA IDENTITY and skipped.operations are the connector's: Lethe cannot repair or "
                + "watch them (run lethe doctor; a connector that skips truncates leaves their entries stale)");
        out.add("the source watch runs only with Lethe's own capture: DDL that changes what rows hold without a row change "
                + "(ALTER COLUMN ... TYPE, an enum label renamed, a table made to inherit or a partition attached with rows, a "
                + "column replaced under its name) resets nothing in this mode; after such DDL invalidate the table's namespaces "
                + "(lethe invalidate --namespace ... with allow-namespace-wide)");
        if (!t.schemas()) {
            out.add("schemas: false: the PostgreSQL types of key-template columns are unknown, so every change of a namespace with a "
                    + "templated key invalidates its keys by glob");
        }
        out.add("watermarks come from the connector's heartbeats (" + t.heartbeatTopic() + "), stamped with the heartbeat's time, "
                + "not a commit's: none when the connector writes no heartbeats");
        return out;
    }

    /** Checks the topics Lethe writes, then starts translating on a thread of its own. */
    public void start() {
        TopicSetup.ensure(config, KafkaRole.CAPTURE, List.of(config.topics().changes(), config.topics().dlq()), KAFKA_TIMEOUT);
        publisher = new ChangePublisher(config, clock, misconfiguration, () -> { }, () -> { }, tracing);
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, "lethe-debezium-topics");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(config));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.source().maxBatchSize());
        consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        for (String limit : limits(config)) {
            LOG.warn("source.mode debezium-topics: {}", limit);
        }
        running = true;
        thread = new Thread(this::run, "lethe-debezium-topics");
        thread.setDaemon(true);
        thread.start();
        LOG.info("translating the Debezium topics {} (heartbeats {}) -> {}", tableByTopic.keySet(), topics.heartbeatTopic(),
                config.topics().changes());
    }

    /** The consumer group the translator commits in. */
    public static String groupId(LetheConfig config) {
        return config.source().debeziumTopics().group(config.kafka().topicPrefix());
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

    private void run() {
        try {
            while (running) {
                try {
                    refreshAssignment();
                    ConsumerRecords<byte[], byte[]> records;
                    try {
                        records = consumer.poll(Duration.ofMillis(100));
                    } catch (InvalidOffsetException e) {
                        lost(e.partitions(), "its next record is no longer in Kafka (deleted by retention before Lethe read it)");
                        continue;
                    }
                    process(records);
                } catch (KafkaException e) {
                    if (e instanceof WakeupException || e instanceof InvalidOffsetException) {
                        throw e;
                    }
                    rewind(e);
                }
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

    private void process(ConsumerRecords<byte[], byte[]> records) throws InterruptedException {
        for (ConsumerRecord<byte[], byte[]> record : records) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            if (record.topic().equals(topics.heartbeatTopic())) {
                OptionalLong at = mapper.heartbeatMicros(record.topic(), record.value());
                if (at.isPresent()) {
                    // every change topic that exists now is assigned first: a table whose topic appeared since the last
                    // refresh (with its first change) would otherwise be left out of what the heartbeat waits for
                    lastRefresh = 0;
                    refreshAssignment();
                    gate.heartbeat(at.getAsLong(), consumer.endOffsets(changePartitions(), KAFKA_TIMEOUT));
                }
                continue;
            }
            if (isTransactionTopic(record.topic())) {
                try {
                    mapper.transactionEnd(record.topic(), record.value())
                            .ifPresent(end -> stamps.end(end.txId(), end.commitLsn(), end.counts(), record.offset()));
                } catch (RuntimeException e) {
                    // a transaction whose END Lethe cannot read holds its changes back: lag grows, nothing goes out unstamped
                    LOG.error("record {}@{} of the connector's transaction topic is not a transaction record ({}); dead-lettered",
                            tp, record.offset(), e.getMessage());
                    deadLettered.increment();
                    publisher.deadLetter(DeadLetter.of(STAGE, DlqReason.MALFORMED, "not a Debezium transaction record: " + e.getMessage())
                            .original(null, record.value()).source(record.topic(), record.partition(), record.offset()).exception(e)
                            .at(clock.millis()));
                }
                continue;
            }
            SourceTable table = tableByTopic.get(record.topic());
            ChangeEvent event = null;
            Long txId = null;
            try {
                event = mapper.map(record.topic(), record.partition(), record.key(), record.value(), table).orElse(null);
                if (event != null && topics.transactionMetadata() && event.txId() != null && mapper.inTransaction(record.topic(), record.value())) {
                    txId = event.txId();
                }
            } catch (RuntimeException e) {
                deadLetter(record, table, e);
                // a change Lethe cannot read may have made any entry of its table stale: its namespaces are reset, in the
                // record's place in its partition (after every change before it, held for its END or not, so that no older
                // image is upserted after the reset)
                for (ChangeEvent reset : wholesaleResets(Set.of(table))) {
                    stamps.hold(new TransactionStamps.Held(tp, record.offset(), reset, null));
                }
                continue;
            }
            stamps.hold(new TransactionStamps.Held(tp, record.offset(), event, txId));
        }
        List<ChangeEvent> events = new ArrayList<>();
        for (TransactionStamps.Held h : stamps.release()) {
            if (h.event() != null) {
                events.add(h.event());
                if (h.event().op() != Op.RESET) {
                    lsnAt.computeIfAbsent(h.partition(), tp -> new TreeMap<>()).put(h.offset(), h.event().lsn());
                }
            }
        }
        if (!events.isEmpty()) {
            publisher.publishAll(events);
            translated.increment(events.size());
            for (ChangeEvent e : events) {
                if (e.op() != Op.RESET) {
                    maxLsn = Math.max(maxLsn, e.lsn());
                }
            }
        }
        var released = gate.release(tp -> stamps.next(tp, consumer.position(tp, KAFKA_TIMEOUT)));
        if (released.isPresent()) {
            coveredLsn = Math.max(coveredLsn, coveredBy(released.get().ends()));
            if (coveredLsn > 0) {
                publisher.publishWatermark(new Watermark(released.get().commitMicros(), coveredLsn, -1));
            }
        }
        commit();
        backPressure();
    }

    /**
     * After Kafka failed in the middle of a batch (a timeout, a broker away): forgets everything not
     * committed and reads again from the committed offsets, after a pause. What was published twice is
     * harmless (every stage is idempotent); what was read but not published is read again.
     */
    private void rewind(KafkaException e) throws InterruptedException {
        LOG.warn("Kafka failed while translating the Debezium topics ({}); reading again from the committed offsets", e.toString());
        stamps = new TransactionStamps(MAX_ENDS, config.tables());
        gate = new WatermarkGate();
        lsnAt.clear();
        Thread.sleep(config.apply().retryBackoffMax().toMillis());
        for (TopicPartition tp : consumer.assignment()) {
            Long at = committedOffsets.get(tp);
            if (at != null) {
                consumer.seek(tp, at);
            }
        }
    }

    /** Commits what is published: a change partition up to its first held change, the transaction topic up to the first END still needed. */
    private void commit() {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            long position = consumer.position(tp, KAFKA_TIMEOUT);
            long next = isTransactionTopic(tp.topic()) ? stamps.transactionsNext(position)
                    : tp.topic().equals(topics.heartbeatTopic()) ? position : stamps.next(tp, position);
            Long last = committedOffsets.get(tp);
            if (last == null || last != next) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        }
        if (!offsets.isEmpty()) {
            consumer.commitSync(offsets, KAFKA_TIMEOUT);
            offsets.forEach((tp, at) -> committedOffsets.put(tp, at.offset()));
        }
    }

    /**
     * Stops reading changes while too many wait for their transaction's END (the transaction topic
     * is still read), and the transaction topic while too many ENDs wait for their changes (the
     * changes are still read; never both paused: each unblocks the other).
     */
    private void backPressure() {
        int limit = config.source().maxQueueSize();
        Set<TopicPartition> changes = new HashSet<>(changePartitions());
        Set<TopicPartition> paused = consumer.paused();
        boolean changesPaused = paused.stream().anyMatch(changes::contains);
        if (stamps.held() > limit && !changesPaused) {
            LOG.warn("{} changes wait for their transaction's END on {}: reading changes paused", stamps.held(), topics.transactionTopic());
            consumer.pause(changes);
            changesPaused = true;
        } else if (stamps.held() <= limit / 2 && changesPaused) {
            consumer.resume(paused.stream().filter(changes::contains).toList());
            changesPaused = false;
        }
        if (!topics.transactionMetadata()) {
            return;
        }
        List<TopicPartition> transactions = consumer.assignment().stream().filter(tp -> isTransactionTopic(tp.topic())).toList();
        boolean transactionsPaused = paused.stream().anyMatch(tp -> isTransactionTopic(tp.topic()));
        if (!changesPaused && stamps.pending() > MAX_ENDS && !transactionsPaused) {
            LOG.warn("{} transaction ENDs wait for their changes: reading {} paused", stamps.pending(), topics.transactionTopic());
            consumer.pause(transactions);
        } else if ((changesPaused || stamps.pending() <= MAX_ENDS / 2) && transactionsPaused) {
            consumer.resume(transactions);
        }
    }

    private boolean isTransactionTopic(String topic) {
        return topics.transactionMetadata() && topic.equals(topics.transactionTopic());
    }

    private void deadLetter(ConsumerRecord<byte[], byte[]> record, SourceTable table, RuntimeException e) throws InterruptedException {
        deadLettered.increment();
        LOG.error("record {}-{}@{} of the Debezium connector is not a change Lethe can read ({}): dead-lettered, and the namespaces of "
                + "{} are reset", record.topic(), record.partition(), record.offset(), e.getMessage(), table.qualifiedName());
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        publisher.deadLetter(DeadLetter.of(STAGE, DlqReason.MALFORMED, "not a Debezium change envelope Lethe can read: " + e.getMessage()
                        + "; the namespaces of " + table.qualifiedName() + " were reset instead")
                .original(key, record.value()).source(record.topic(), record.partition(), record.offset()).exception(e).at(clock.millis()));
    }

    /**
     * Assigns every partition of the connector's topics that exists (a table's topic appears with its
     * first change), placing each new one: at its committed offset; else, for a first read, at its
     * beginning, after resetting its table when that beginning is not offset 0 (changes were deleted
     * unread).
     */
    private void refreshAssignment() throws InterruptedException {
        long now = System.nanoTime();
        if (lastRefresh != 0 && now - lastRefresh < TOPIC_REFRESH.toNanos()) {
            return;
        }
        lastRefresh = now;
        Set<TopicPartition> wanted = new LinkedHashSet<>();
        List<String> names = new ArrayList<>(tableByTopic.keySet());
        names.add(topics.heartbeatTopic());
        if (topics.transactionMetadata()) {
            names.add(topics.transactionTopic());
        }
        Map<String, List<PartitionInfo>> existing = consumer.listTopics(KAFKA_TIMEOUT);
        for (String topic : names) {
            for (PartitionInfo p : existing.getOrDefault(topic, List.of())) {
                wanted.add(new TopicPartition(topic, p.partition()));
            }
        }
        Set<TopicPartition> added = new LinkedHashSet<>(wanted);
        added.removeAll(consumer.assignment());
        if (added.isEmpty()) {
            return;
        }
        // asked before assigning: when Kafka fails here, nothing has changed and the next round asks again
        Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(added, KAFKA_TIMEOUT);
        Map<TopicPartition, Long> beginnings = consumer.beginningOffsets(added, KAFKA_TIMEOUT);
        consumer.assign(wanted);
        Set<TopicPartition> headLost = new HashSet<>();
        for (TopicPartition tp : added) {
            OffsetAndMetadata at = committed.get(tp);
            if (at != null) {
                consumer.seek(tp, at.offset());
                committedOffsets.put(tp, at.offset());
            } else {
                consumer.seek(tp, beginnings.getOrDefault(tp, 0L));
                committedOffsets.put(tp, beginnings.getOrDefault(tp, 0L));
                if (beginnings.getOrDefault(tp, 0L) > 0 && tableByTopic.containsKey(tp.topic())) {
                    headLost.add(tp);
                }
            }
        }
        if (!headLost.isEmpty()) {
            lost(headLost, "Lethe reads it for the first time and its first changes were deleted before (retention)");
        }
    }

    /**
     * The LSN a heartbeat read when the change partitions ended at {@code ends} vouches for: the
     * highest LSN of a row change the connector wrote before it. Debezium emits transactions in commit
     * order, so every transaction that committed before that change's LSN was written before it too:
     * a read-your-writes token at or below it is covered. (Not the heartbeat's own position, which a
     * Debezium heartbeat does not carry; while no change flows it does not advance, and tokens read the
     * database.) The offsets below are forgotten, except the last.
     */
    private long coveredBy(Map<TopicPartition, Long> ends) {
        long covered = 0;
        for (var end : ends.entrySet()) {
            TreeMap<Long, Long> offsets = lsnAt.get(end.getKey());
            if (offsets == null) {
                continue;
            }
            var last = offsets.floorEntry(end.getValue() - 1);
            if (last != null) {
                covered = Math.max(covered, offsets.headMap(last.getKey(), true).values().stream().mapToLong(Long::longValue).max()
                        .orElse(0));
                offsets.headMap(last.getKey(), false).clear();
            }
        }
        return covered;
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
        publisher.publishAll(wholesaleResets(tables));
        consumer.seekToBeginning(partitions);
    }

    /**
     * One reset per namespace of each table, deleting whatever is there (version 2^64-1): the LSN of
     * what was lost is unknown, so no version below it can be named.
     */
    private List<ChangeEvent> wholesaleResets(Set<SourceTable> tables) {
        long now = clock.millis() * 1000;
        List<ChangeEvent> out = new ArrayList<>();
        for (SourceTable table : tables) {
            for (NamespaceConfig ns : config.namespacesForTable(table.qualifiedName())) {
                resets.increment();
                out.add(new ChangeEvent(ChangeEvent.SCHEMA_ID, "debezium:" + ChangeEvent.resetId(maxLsn, ns.name()) + ":" + now, table, Op.RESET,
                        null, null, null, Versions.MAX, maxLsn, null, now, now, ns.name(), config.source().region(), null));
            }
        }
        return out;
    }

    private Set<TopicPartition> changePartitions() {
        Set<TopicPartition> out = new LinkedHashSet<>();
        for (TopicPartition tp : consumer.assignment()) {
            if (tableByTopic.containsKey(tp.topic())) {
                out.add(tp);
            }
        }
        return out;
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
    }
}
