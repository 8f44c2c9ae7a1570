package io.lethe.capture.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Whether capture has committed source offsets before, and how far they reach, read from its
 * Kafka offset topic. With offsets but no slot, the slot was dropped while capture was away; with
 * a slot that starts beyond them, it was made again after capture last streamed (by an operator,
 * or by a capture that crashed before it published its reset): either way changes may be missing.
 */
public final class OffsetHistory {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OffsetHistory() {
    }

    /** True when the offset topic holds an offset for {@code serverName} (Debezium's topic.prefix). */
    public static boolean hasOffsets(LetheConfig config, String serverName, Duration timeout) {
        return stored(config, serverName, timeout).isPresent();
    }

    /**
     * The furthest WAL position the stored offset of {@code serverName} records (the largest of
     * its {@code lsn}, {@code lsn_proc} and {@code lsn_commit}), or empty without a stored offset.
     * Capture has seen every change up to here; a slot that starts beyond it was made after
     * capture last streamed, and the changes between were never seen.
     */
    public static OptionalLong lastLsn(LetheConfig config, String serverName, Duration timeout) {
        Optional<ConsumerRecord<byte[], byte[]>> record = stored(config, serverName, timeout);
        if (record.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            JsonNode offset = JSON.readTree(record.get().value());
            long lsn = -1;
            for (String field : List.of("lsn", "lsn_proc", "lsn_commit")) {
                if (offset.path(field).canConvertToLong()) {
                    lsn = Math.max(lsn, offset.path(field).asLong());
                }
            }
            return lsn < 0 ? OptionalLong.empty() : OptionalLong.of(lsn);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the stored capture offset in " + config.topics().captureOffsets() + ": " + e, e);
        }
    }

    /**
     * Forgets the stored offset (a tombstone for its key), so Debezium starts as on its first run:
     * from a new slot, at the current WAL position. Used after a lost slot, once every namespace
     * has been reset, because Debezium refuses to resume from a position the new slot lacks.
     */
    public static void forget(LetheConfig config, String serverName, Duration timeout) throws InterruptedException {
        Optional<byte[]> key = stored(config, serverName, timeout).map(ConsumerRecord::key);
        if (key.isEmpty()) {
            return;
        }
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, "lethe-capture-offset-reset");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(config.topics().captureOffsets(), key.get(), null)).get(timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot clear the stored capture offset in " + config.topics().captureOffsets() + ": " + e, e);
        }
    }

    /** The live offset record of {@code serverName}, if there is one. */
    private static Optional<ConsumerRecord<byte[], byte[]>> stored(LetheConfig config, String serverName, Duration timeout) {
        String topic = config.topics().captureOffsets();
        Map<String, Object> common = KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, "lethe-capture-offset-check");
        try (Admin admin = Admin.create(common)) {
            Set<String> topics = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!topics.contains(topic)) {
                return Optional.empty();
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("cannot read capture offsets from " + topic + ": " + e, e);
        }
        String marker = "\"server\":\"" + serverName + "\"";
        return TopicRecords.last(config, "lethe-capture-offset-check", topic,
                k -> new String(k, StandardCharsets.UTF_8).replace(" ", "").contains(marker), timeout);
    }
}
