package io.lethe.capture.topics;

import io.lethe.schemas.Watermark;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The translator's watermarks: the connector's heartbeats held until every change before them is
 * published ({@link WatermarkGate}), the LSN they claim ({@link Coverage}), and the source history
 * ({@code io.lethe.schemas.SourceHistory}) that LSN is a position in, as the table watch's last
 * check read it (capture's heartbeats name theirs too): a region's applied watermark, a read token
 * and {@code lethe lag} compare positions of one history only.
 */
final class Watermarks {
    private static final Logger LOG = LoggerFactory.getLogger(Watermarks.class);
    private final Coverage coverage;
    private WatermarkGate gate = new WatermarkGate();
    /** The history taken on (the last check that read it found it); null before the first, or while its fence is not taken. */
    private String history;
    /** Whether every change partition was read past the fence of {@link #history} ({@link Coverage#fence}). */
    private boolean pastFence;

    Watermarks(Coverage coverage) {
        this.coverage = coverage;
    }

    /** Where the heartbeats read wait. */
    WatermarkGate gate() {
        return gate;
    }

    /**
     * A check of the source read {@code now} (null: it could not, and vouches for nothing). The
     * history is taken on at the first check after a start, and at every check that finds another
     * one: the change partitions' end offsets then ({@code ends}) are its fence. No record says its
     * history (neither a Debezium change nor a heartbeat does), and the records below the fence may be
     * the old one's (after a failover or a restore, a translator behind its connector, or restarted,
     * still has them to read; after a restart the kept history says what the last check saw, not what
     * the unread records are): what watermarks claim starts again from the changes beyond the fence
     * ({@link Coverage#newHistory}), the heartbeats read before are dropped, and none is released until
     * every change partition is read past the fence. Ends that cannot be taken hold every watermark
     * until a check takes them.
     */
    void history(String now, Supplier<Map<TopicPartition, Long>> ends) {
        if (now == null || now.equals(history)) {
            return;
        }
        Map<TopicPartition, Long> fence;
        try {
            fence = ends.get();
        } catch (WakeupException | InterruptException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("cannot take the end offsets of the connector's topics for source history {} ({}): no watermark is published "
                    + "until a check can", now, e.getMessage());
            history = null;
            gate = new WatermarkGate();
            return;
        }
        if (history != null) {
            LOG.warn("the source's history changed ({} -> {}): watermarks claim only the changes the connector wrote from now on "
                    + "(beyond {})", history, now, fence);
        }
        coverage.newHistory(fence);
        gate = new WatermarkGate();
        pastFence = false;
        history = now;
    }

    /**
     * The watermark of the latest heartbeat every change before which is published (given
     * {@code published}: the next offset to translate, per change partition); empty when none is,
     * or it claims no LSN yet (no change beyond the fence of the history taken on was translated), or
     * no history is taken on, or a change partition is not yet read past its fence.
     */
    Optional<Watermark> release(ToLongFunction<TopicPartition> published) {
        if (history == null || gate.pending() == 0) {
            return Optional.empty();
        }
        if (!pastFence) {
            // (a heartbeat read after the fence waits for ends at or beyond it: said here, not assumed); a partition the
            // heartbeat does not wait for is no longer assigned (its topic deleted): nothing of it can be read
            Map<TopicPartition, Long> waits = gate.oldest().ends();
            if (coverage.fence().entrySet().stream()
                    .anyMatch(e -> waits.containsKey(e.getKey()) && published.applyAsLong(e.getKey()) < e.getValue())) {
                return Optional.empty();
            }
            pastFence = true;
        }
        Optional<WatermarkGate.Pending> released = gate.release(published);
        if (released.isEmpty()) {
            return Optional.empty();
        }
        long covered = coverage.cover(released.get().ends());
        return covered > 0 ? Optional.of(new Watermark(released.get().commitMicros(), covered, -1, history)) : Optional.empty();
    }

    /** Kafka failed in the middle of a batch: what was read and not committed is read again. */
    void forget() {
        gate = new WatermarkGate();
        coverage.clear();
    }
}
