package io.lethe.capture.topics;

import io.lethe.capture.engine.ChangePublisher;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.SourceTable;
import io.lethe.stage.dlq.DeadLetter;
import io.micrometer.core.instrument.Counter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The connector's records Lethe cannot read, dead-lettered with their coordinates and counted. */
final class Rejects {
    private static final Logger LOG = LoggerFactory.getLogger(Rejects.class);

    private final ChangePublisher publisher;
    private final Counter deadLettered;
    private final Clock clock;

    Rejects(ChangePublisher publisher, Counter deadLettered, Clock clock) {
        this.publisher = publisher;
        this.deadLettered = deadLettered;
        this.clock = clock;
    }

    /** A record of the transaction topic that is not a transaction record: its changes wait for an END that never comes. */
    void transactionRecord(ConsumerRecord<byte[], byte[]> record, RuntimeException e) throws InterruptedException {
        LOG.error("record {}-{}@{} of the connector's transaction topic is not a transaction record ({}); dead-lettered",
                record.topic(), record.partition(), record.offset(), e.getMessage());
        deadLettered.increment();
        publisher.deadLetter(
                DeadLetter.of(DebeziumTopicsSource.STAGE, DlqReason.MALFORMED, "not a Debezium transaction record: " + e.getMessage())
                        .original(null, record.value()).source(record.topic(), record.partition(), record.offset()).exception(e)
                        .at(clock.millis()));
    }

    /** A change record Lethe cannot read: its table's namespaces are reset in its place (by the caller). */
    void changeRecord(ConsumerRecord<byte[], byte[]> record, SourceTable table, RuntimeException e) throws InterruptedException {
        deadLettered.increment();
        LOG.error("record {}-{}@{} of the Debezium connector is not a change Lethe can read ({}): dead-lettered, and the namespaces of "
                + "{} are reset", record.topic(), record.partition(), record.offset(), e.getMessage(), table.qualifiedName());
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        publisher
                .deadLetter(DeadLetter
                        .of(DebeziumTopicsSource.STAGE, DlqReason.MALFORMED,
                                "not a Debezium change envelope Lethe can read: " + e.getMessage()
                                        + "; the namespaces of " + table.qualifiedName() + " were reset instead")
                        .original(key, record.value()).source(record.topic(), record.partition(), record.offset()).exception(e)
                        .at(clock.millis()));
    }
}
