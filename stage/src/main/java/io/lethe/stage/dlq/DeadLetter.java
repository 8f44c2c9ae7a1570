package io.lethe.stage.dlq;

import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The one builder of dead-letter records, shared by capture, streams and every region: the
 * original bytes as the value (so {@code lethe dlq replay} can publish them again) and the
 * {@link Headers#DLQ_SET} headers, with a typed {@link DlqReason}. A value larger than the DLQ
 * can take is cut to {@link #MAX_VALUE_BYTES}, and {@link Headers#DLQ_TRUNCATED} then holds its
 * original length: such a record can be read but not replayed.
 */
public final class DeadLetter {
    /**
     * Largest value kept whole: below Kafka's default {@code max.request.size} (1 MiB) with room
     * for key and headers, so the dead letter of a record too large for Kafka still fits.
     */
    public static final int MAX_VALUE_BYTES = 900 * 1024;

    private final String stage;
    private final String reason;
    private final String error;
    private String key;
    private byte[] value;
    private String exception;
    private String sourceTopic = "";
    private String sourcePartition = "";
    private String sourceOffset = "";
    private long timestamp = System.currentTimeMillis();

    private DeadLetter(String stage, String reason, String error) {
        this.stage = Objects.requireNonNull(stage, "stage");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.error = error == null ? "" : error;
    }

    /** A dead letter from {@code stage} (capture, streams, region:&lt;name&gt;) for {@code reason}. */
    public static DeadLetter of(String stage, DlqReason reason, String error) {
        return new DeadLetter(stage, reason.code(), error);
    }

    /** Several reasons at once (a change that fails more than one rule), comma-separated. */
    public static DeadLetter of(String stage, java.util.Collection<DlqReason> reasons, String error) {
        return new DeadLetter(stage, String.join(",", reasons.stream().map(DlqReason::code).toList()), error);
    }

    /** The record's key and value, as read or as they would have been published. */
    public DeadLetter original(String key, byte[] value) {
        this.key = key;
        this.value = value;
        return this;
    }

    public DeadLetter source(String topic, int partition, long offset) {
        this.sourceTopic = topic;
        this.sourcePartition = Integer.toString(partition);
        this.sourceOffset = Long.toString(offset);
        return this;
    }

    /** A source without partitions (capture's WAL position): partition 0, the position as offset. */
    public DeadLetter source(String topic, long position) {
        return source(topic, 0, position);
    }

    public DeadLetter exception(Throwable cause) {
        this.exception = cause == null ? null : cause.getClass().getName();
        return this;
    }

    public DeadLetter at(long epochMillis) {
        this.timestamp = epochMillis;
        return this;
    }

    public String reason() {
        return reason;
    }

    public String key() {
        return key;
    }

    /** The value as it goes to the DLQ (possibly cut, see {@link #MAX_VALUE_BYTES}). */
    public byte[] value() {
        return value == null || value.length <= MAX_VALUE_BYTES ? value : Arrays.copyOf(value, MAX_VALUE_BYTES);
    }

    /** The DLQ headers. */
    public RecordHeaders headers() {
        RecordHeaders headers = new RecordHeaders();
        put(headers, Headers.DLQ_REASON, reason);
        put(headers, Headers.DLQ_ERROR, error);
        put(headers, Headers.DLQ_STAGE, stage);
        put(headers, Headers.DLQ_SOURCE_TOPIC, sourceTopic);
        put(headers, Headers.DLQ_SOURCE_PARTITION, sourcePartition);
        put(headers, Headers.DLQ_SOURCE_OFFSET, sourceOffset);
        put(headers, Headers.DLQ_TIMESTAMP, Long.toString(timestamp));
        if (exception != null) {
            put(headers, Headers.DLQ_EXCEPTION, exception);
        }
        if (value != null && value.length > MAX_VALUE_BYTES) {
            put(headers, Headers.DLQ_TRUNCATED, Integer.toString(value.length));
        }
        return headers;
    }

    public ProducerRecord<String, byte[]> toRecord(String dlqTopic) {
        return new ProducerRecord<>(dlqTopic, null, null, key, value(), headers());
    }

    private static void put(RecordHeaders headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
