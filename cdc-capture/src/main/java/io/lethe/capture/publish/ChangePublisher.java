package io.lethe.capture.publish;

import io.lethe.config.LetheConfig;
import io.lethe.config.kafka.KafkaClients;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Headers;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes change events to {@code lethe.changes} with an idempotent, acks=all producer and
 * returns only when Kafka has acknowledged every one of them. A failed batch is sent again
 * (duplicates are allowed downstream) after a backoff, for as long as it takes: capture never
 * moves its offset past a change Kafka does not hold.
 */
public final class ChangePublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChangePublisher.class);

    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final String dlqTopic;
    private final Duration backoffMin;
    private final Duration backoffMax;
    private final Runnable onRetry;

    public ChangePublisher(LetheConfig config, Runnable onRetry) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), "lethe-capture");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        this.topic = config.topics().changes();
        this.dlqTopic = config.topics().dlq();
        this.backoffMin = config.apply().retryBackoffMin();
        this.backoffMax = config.apply().retryBackoffMax();
        this.onRetry = onRetry;
    }

    /** Sends every event and waits until Kafka acknowledged all of them, retrying as long as needed. */
    public void publishAll(List<ChangeEvent> events) throws InterruptedException {
        if (events.isEmpty()) {
            return;
        }
        Duration backoff = backoffMin;
        while (true) {
            try {
                sendAndAwait(events);
                return;
            } catch (ExecutionException | KafkaException e) {
                onRetry.run();
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                LOG.warn("publishing {} changes to {} failed ({}); retrying in {} ms", events.size(), topic,
                        cause.toString(), backoff.toMillis());
                Thread.sleep(backoff.toMillis());
                backoff = backoff.multipliedBy(2).compareTo(backoffMax) > 0 ? backoffMax : backoff.multipliedBy(2);
            }
        }
    }

    private void sendAndAwait(List<ChangeEvent> events) throws ExecutionException, InterruptedException {
        List<Future<RecordMetadata>> acks = new ArrayList<>(events.size());
        for (ChangeEvent event : events) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, event.recordKey(), EventJson.write(event));
            record.headers().add(Headers.SCHEMA, ChangeEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
            acks.add(producer.send(record));
        }
        producer.flush();
        for (Future<RecordMetadata> ack : acks) {
            ack.get();
        }
    }

    /**
     * Dead-letters something capture could not turn into a change event, waiting for the ack
     * (retrying like changes): the DLQ gets a description of the record and the reason.
     */
    public void deadLetter(byte[] original, String reason, String error, String sourceTopic, long position)
            throws InterruptedException {
        Duration backoff = backoffMin;
        while (true) {
            try {
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(dlqTopic, null, original);
                put(record, Headers.DLQ_REASON, reason);
                put(record, Headers.DLQ_ERROR, error);
                put(record, Headers.DLQ_STAGE, "capture");
                put(record, Headers.DLQ_SOURCE_TOPIC, sourceTopic);
                put(record, Headers.DLQ_SOURCE_PARTITION, "0");
                put(record, Headers.DLQ_SOURCE_OFFSET, Long.toString(position));
                put(record, Headers.DLQ_TIMESTAMP, Long.toString(System.currentTimeMillis()));
                producer.send(record).get();
                return;
            } catch (ExecutionException | KafkaException e) {
                onRetry.run();
                LOG.warn("dead-lettering to {} failed ({}); retrying in {} ms", dlqTopic, e.toString(), backoff.toMillis());
                Thread.sleep(backoff.toMillis());
                backoff = backoff.multipliedBy(2).compareTo(backoffMax) > 0 ? backoffMax : backoff.multipliedBy(2);
            }
        }
    }

    private static void put(ProducerRecord<String, byte[]> record, String header, String value) {
        record.headers().add(header, value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
