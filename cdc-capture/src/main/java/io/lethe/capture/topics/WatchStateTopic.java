package io.lethe.capture.topics;

import io.lethe.capture.source.StateKeeper;
import io.lethe.capture.source.TopicRecords;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The table watch's state in {@code source.mode: debezium-topics}: one record in capture's offsets
 * topic ({@code <prefix>.capture.offsets}, compacted, one partition; this mode runs no Debezium of
 * its own, so the topic holds no Debezium offsets), keyed {@code table-watch:<translator group>}.
 * The translator that starts next compares the configured tables with it, so DDL while no
 * translator ran is found.
 */
final class WatchStateTopic implements StateKeeper, AutoCloseable {
    private final LetheConfig config;
    private final String topic;
    private final byte[] key;
    /** The translator's consumer group: committed offsets there mean a translator ran before. */
    private final String group;
    private final Duration timeout;
    private KafkaProducer<byte[], byte[]> producer;

    WatchStateTopic(LetheConfig config, Duration timeout) {
        this.config = config;
        this.topic = config.topics().captureOffsets();
        // a JSON key, as Connect's offset keys are: a capture started later on this topic reads every key as JSON
        this.group = config.source().debeziumTopics().group(config.kafka().topicPrefix());
        this.key = ("[\"lethe-table-watch\",{\"group\":\"" + group.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}]")
                .getBytes(StandardCharsets.UTF_8);
        this.timeout = timeout;
    }

    /**
     * Reads the topic to its end (the last record of the key wins; a tombstone: none), and whether
     * the translator's group has committed offsets (a translator ran before).
     */
    @Override
    public Kept load() {
        return new Kept(read(), ranBefore());
    }

    private boolean ranBefore() {
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, "lethe-debezium-topics-watch-state"))) {
            return !admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .isEmpty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading group " + group + "'s offsets", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read group " + group + "'s offsets: " + e, e);
        }
    }

    private Optional<String> read() {
        return TopicRecords.last(config, "lethe-debezium-topics-watch-state", topic, k -> Arrays.equals(k, key), timeout)
                .map(r -> new String(r.value(), StandardCharsets.UTF_8));
    }

    @Override
    public void save(String json) {
        if (producer == null) {
            Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, "lethe-debezium-topics-watch-state");
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        }
        try {
            producer.send(new ProducerRecord<>(topic, 0, key, json.getBytes(StandardCharsets.UTF_8))).get(timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while saving the table watch's state to " + topic, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot save the table watch's state to " + topic + ": " + e, e);
        }
    }

    @Override
    public void close() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
    }
}
