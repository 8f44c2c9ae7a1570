package io.lethe.capture.topics;

import io.lethe.schemas.Watermark;
import java.util.Optional;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.TopicPartition;

/**
 * The translator's watermarks: the connector's heartbeats held until every change before them is
 * published ({@link WatermarkGate}), the LSN they claim ({@link Coverage}), and the source history
 * ({@code io.lethe.schemas.SourceHistory}) that LSN is a position in, as the table watch's last
 * check read it (capture's heartbeats name theirs too): a region's applied watermark, a read token
 * and {@code lethe lag} compare positions of one history only.
 */
final class Watermarks {
    private final Coverage coverage;
    private WatermarkGate gate = new WatermarkGate();
    /** The history the last check that read it found; null before the first. */
    private String history;

    Watermarks(Coverage coverage) {
        this.coverage = coverage;
    }

    /** Where the heartbeats read wait. */
    WatermarkGate gate() {
        return gate;
    }

    /**
     * A check of the source read {@code now} (null: it could not, and vouches for nothing). When it
     * is another history than before, the old one's positions say nothing of the new one's: what
     * watermarks claim starts again, and the heartbeats read before it was seen are dropped (the
     * changes before them may be the old history's).
     */
    void history(String now) {
        if (now == null || now.equals(history)) {
            return;
        }
        if (history != null) {
            coverage.newHistory();
            gate = new WatermarkGate();
        }
        history = now;
    }

    /**
     * The watermark of the latest heartbeat every change before which is published (given
     * {@code published}: the next offset to translate, per change partition); empty when none is,
     * or it claims no LSN yet (no change was translated since the start or the history's change).
     */
    Optional<Watermark> release(ToLongFunction<TopicPartition> published) {
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
