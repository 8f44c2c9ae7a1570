package io.lethe.capture.topics;

import io.lethe.capture.engine.ChangePublisher;
import io.lethe.config.DebeziumTopicsConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.micrometer.core.instrument.Counter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@link DebeziumTopicsSource} does with each record it read: a heartbeat goes to the
 * {@link WatermarkGate} (with the end offsets it waits for), a transaction's END stamps its changes
 * ({@link TransactionStamps}), a change is mapped ({@link EnvelopeMapper}) and held until its
 * transaction is stamped, and a record Lethe cannot read is dead-lettered ({@link Rejects}) with a
 * reset of its table's namespaces in its place. Then the changes released are published, and the
 * {@link Coverage} told which LSNs are translated and published.
 */
final class RecordIntake {
    private final DebeziumTopicsConfig topics;
    private final EnvelopeMapper mapper;
    private final Map<String, SourceTable> tableByTopic;
    private final ConnectorTopics reading;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Rejects rejects;
    private final TableResets tableResets;
    private final Coverage coverage;
    private final Counter translated;

    RecordIntake(DebeziumTopicsConfig topics, EnvelopeMapper mapper, Map<String, SourceTable> tableByTopic, ConnectorTopics reading,
            KafkaConsumer<byte[], byte[]> consumer, Rejects rejects, TableResets tableResets, Coverage coverage, Counter translated) {
        this.topics = topics;
        this.mapper = mapper;
        this.tableByTopic = tableByTopic;
        this.reading = reading;
        this.consumer = consumer;
        this.rejects = rejects;
        this.tableResets = tableResets;
        this.coverage = coverage;
        this.translated = translated;
    }

    /**
     * Holds every record of {@code records} in {@code stamps} (heartbeats in {@code gate}), calling
     * {@code heartbeatRead} for each heartbeat read.
     */
    void hold(ConsumerRecords<byte[], byte[]> records, TransactionStamps stamps, WatermarkGate gate, ConnectorTopics.Lost lost,
            Runnable heartbeatRead) throws InterruptedException {
        for (ConsumerRecord<byte[], byte[]> record : records) {
            TopicPartition tp = new TopicPartition(record.topic(), record.partition());
            if (record.topic().equals(topics.heartbeatTopic())) {
                OptionalLong at = mapper.heartbeatMicros(record.topic(), record.value());
                if (at.isPresent()) {
                    // every change topic that exists now is assigned first: a table whose topic appeared since the last
                    // refresh (with its first change) would otherwise be left out of what the heartbeat waits for
                    reading.refreshNow(lost);
                    gate.heartbeat(at.getAsLong(), consumer.endOffsets(reading.changePartitions(), DebeziumTopicsSource.KAFKA_TIMEOUT));
                    heartbeatRead.run();
                }
                continue;
            }
            if (reading.isTransactionTopic(record.topic())) {
                try {
                    mapper.transactionEnd(record.topic(), record.value())
                            .ifPresent(end -> stamps.end(end.txId(), end.commitLsn(), end.counts(), record.offset()));
                } catch (RuntimeException e) {
                    // a transaction whose END Lethe cannot read holds its changes back: lag grows, nothing goes out unstamped
                    rejects.transactionRecord(record, e);
                }
                continue;
            }
            SourceTable table = tableByTopic.get(record.topic());
            ChangeEvent event = null;
            Long txId = null;
            try {
                event = mapper.map(record.topic(), record.partition(), record.key(), record.value(), table).orElse(null);
                if (event != null && topics.transactionMetadata() && event.txId() != null
                        && mapper.inTransaction(record.topic(), record.value())) {
                    txId = event.txId();
                }
            } catch (RuntimeException e) {
                rejects.changeRecord(record, table, e);
                // a change Lethe cannot read may have made any entry of its table stale: its namespaces are reset, in the
                // record's place in its partition (after every change before it, held for its END or not, so that no older
                // image is upserted after the reset)
                for (ChangeEvent reset : tableResets.wholesale(Set.of(table), coverage.maxLsn())) {
                    stamps.hold(new TransactionStamps.Held(tp, record.offset(), reset, null));
                }
                continue;
            }
            stamps.hold(new TransactionStamps.Held(tp, record.offset(), event, txId));
        }
    }

    /** Publishes what {@code stamps} releases, and waits for Kafka's acknowledgement. */
    void publishReleased(TransactionStamps stamps, ChangePublisher publisher) throws InterruptedException {
        List<ChangeEvent> events = new ArrayList<>();
        for (TransactionStamps.Held h : stamps.release()) {
            if (h.event() != null) {
                events.add(h.event());
                if (h.event().op() != Op.RESET) {
                    coverage.translated(h.partition(), h.offset(), h.event().lsn());
                }
            }
        }
        if (!events.isEmpty()) {
            publisher.publishAll(events);
            translated.increment(events.size());
            for (ChangeEvent e : events) {
                if (e.op() != Op.RESET) {
                    coverage.published(e.lsn());
                }
            }
        }
    }
}
