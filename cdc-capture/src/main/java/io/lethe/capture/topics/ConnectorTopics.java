package io.lethe.capture.topics;

import io.lethe.config.DebeziumTopicsConfig;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.schemas.SourceTable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Debezium connector's topics as {@link DebeziumTopicsSource} reads them: which partitions are
 * assigned (a table's topic appears with its first change), where each new one starts, what is
 * committed, and which topic is paused while the other catches up.
 */
final class ConnectorTopics {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectorTopics.class);
    private static final Duration KAFKA_TIMEOUT = DebeziumTopicsSource.KAFKA_TIMEOUT;
    private static final Duration TOPIC_REFRESH = Duration.ofSeconds(5);

    /** Told which partitions lost changes before Lethe read them, and why. */
    @FunctionalInterface
    interface Lost {
        void lost(Set<TopicPartition> partitions, String why) throws InterruptedException;
    }

    private final LetheConfig config;
    private final DebeziumTopicsConfig topics;
    private final Map<String, SourceTable> tableByTopic;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Map<TopicPartition, Long> committedOffsets = new HashMap<>();
    private long lastRefresh;

    ConnectorTopics(LetheConfig config, Map<String, SourceTable> tableByTopic, KafkaConsumer<byte[], byte[]> consumer) {
        this.config = config;
        this.topics = config.source().debeziumTopics();
        this.tableByTopic = tableByTopic;
        this.consumer = consumer;
    }

    /** The consumer group the translator commits in. */
    static String groupId(LetheConfig config) {
        return config.source().debeziumTopics().group(config.kafka().topicPrefix());
    }

    /** The translator's consumer: in its group, committing by hand, never resetting silently. */
    static KafkaConsumer<byte[], byte[]> consumer(LetheConfig config) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, "lethe-debezium-topics");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(config));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.source().maxBatchSize());
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Assigns every partition of the connector's topics that exists (a table's topic appears with its
     * first change), placing each new one: at its committed offset; else, for a first read, at its
     * beginning, after resetting its table when that beginning is not offset 0 (changes were deleted
     * unread).
     */
    void refresh(Lost lost) throws InterruptedException {
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
            lost.lost(headLost, "Lethe reads it for the first time and its first changes were deleted before (retention)");
        }
    }

    /** {@link #refresh} now, whenever it last ran (a heartbeat waits for every change topic that exists). */
    void refreshNow(Lost lost) throws InterruptedException {
        lastRefresh = 0;
        refresh(lost);
    }

    /** After Kafka failed mid-batch: every assigned partition back to its committed offset. */
    void seekCommitted() {
        for (TopicPartition tp : consumer.assignment()) {
            Long at = committedOffsets.get(tp);
            if (at != null) {
                consumer.seek(tp, at);
            }
        }
    }

    /** Commits what is published: a change partition up to its first held change, the transaction topic up to the first END still needed. */
    void commit(TransactionStamps stamps) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : consumer.assignment()) {
            long position = consumer.position(tp, KAFKA_TIMEOUT);
            long next = isTransactionTopic(tp.topic())
                    ? stamps.transactionsNext(position)
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
    void backPressure(TransactionStamps stamps) {
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
        if (!changesPaused && stamps.pending() > DebeziumTopicsSource.MAX_ENDS && !transactionsPaused) {
            LOG.warn("{} transaction ENDs wait for their changes: reading {} paused", stamps.pending(), topics.transactionTopic());
            consumer.pause(transactions);
        } else if ((changesPaused || stamps.pending() <= DebeziumTopicsSource.MAX_ENDS / 2) && transactionsPaused) {
            consumer.resume(transactions);
        }
    }

    /**
     * The end offsets of every partition of the connector's change topics that exists now, assigned
     * yet or not (where a source history is taken on: {@link Watermarks#history}).
     */
    Map<TopicPartition, Long> changeEnds() {
        Map<String, List<PartitionInfo>> existing = consumer.listTopics(KAFKA_TIMEOUT);
        Set<TopicPartition> partitions = new LinkedHashSet<>();
        for (String topic : tableByTopic.keySet()) {
            for (PartitionInfo p : existing.getOrDefault(topic, List.of())) {
                partitions.add(new TopicPartition(topic, p.partition()));
            }
        }
        return partitions.isEmpty() ? Map.of() : consumer.endOffsets(partitions, KAFKA_TIMEOUT);
    }

    boolean isTransactionTopic(String topic) {
        return topics.transactionMetadata() && topic.equals(topics.transactionTopic());
    }

    Set<TopicPartition> changePartitions() {
        Set<TopicPartition> out = new LinkedHashSet<>();
        for (TopicPartition tp : consumer.assignment()) {
            if (tableByTopic.containsKey(tp.topic())) {
                out.add(tp);
            }
        }
        return out;
    }
}
