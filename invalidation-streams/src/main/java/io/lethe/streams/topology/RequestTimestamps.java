package io.lethe.streams.topology;

import java.time.Clock;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * The timestamp of a purge request, for Kafka Streams' bookkeeping only: the record's own when it is
 * sane, else the partition's time (or, before the partition has one, the wall clock). Whoever may
 * write the request topic (any application) chooses its records' timestamps: with Kafka Streams'
 * default ({@code FailOnInvalidTimestamp}) one record at CreateTime -1 would kill the stream thread,
 * and the replacement thread would read it again and die again; task {@code 0_i} also maps changes
 * partition {@code i}, so CDC's invalidations would stop with it. This never throws. What is routed is
 * stamped with streams' own clock ({@link RequestProcessor}), never with this.
 */
final class RequestTimestamps implements TimestampExtractor {
    /** How far ahead of the wall clock a timestamp may be and still be taken (a producer's clock running fast). */
    static final Duration MAX_AHEAD = Duration.ofHours(1);

    private final Clock clock;

    RequestTimestamps(Clock clock) {
        this.clock = clock;
    }

    /**
     * The record's time, never after now (a request stamped ahead by a fast clock would otherwise wait behind the changes
     * the same task reads until their time caught up: Kafka Streams picks the partition whose head is earliest); a negative
     * one: the partition's time, or now.
     */
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        long now = clock.millis();
        long ts = record.timestamp();
        if (ts >= 0 && ts <= now + MAX_AHEAD.toMillis()) {
            return Math.min(ts, now);
        }
        return partitionTime >= 0 && partitionTime <= now + MAX_AHEAD.toMillis() ? Math.min(partitionTime, now) : now;
    }
}
