package io.lethe.capture.topics;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;
import org.apache.kafka.common.TopicPartition;

/**
 * Holds each heartbeat of the connector back until every change it wrote before that heartbeat
 * was translated: the heartbeat and the changes are on different topics, read in no particular
 * order, so a heartbeat read early would claim a change that is still unread. At a heartbeat the
 * end offsets of the change topics are noted; the heartbeat is released once the translator's
 * published position on every one of them reached them.
 */
final class WatermarkGate {
    /** A heartbeat at {@code commitMicros}, read when the change partitions ended at {@code ends}. */
    record Pending(long commitMicros, Map<TopicPartition, Long> ends) {
    }

    private final Deque<Pending> pending = new ArrayDeque<>();

    /** A heartbeat of {@code commitMicros}, read when the change partitions ended at {@code ends}. */
    void heartbeat(long commitMicros, Map<TopicPartition, Long> ends) {
        pending.addLast(new Pending(commitMicros, Map.copyOf(ends)));
    }

    /**
     * The latest heartbeat every change before which has been published, given {@code published}
     * (the next offset to translate, per change partition); it and those before it are released.
     */
    Optional<Pending> release(ToLongFunction<TopicPartition> published) {
        Pending out = null;
        while (!pending.isEmpty() && reached(pending.peekFirst(), published)) {
            Pending next = pending.removeFirst();
            out = out == null || next.commitMicros >= out.commitMicros ? next : new Pending(out.commitMicros, next.ends);
        }
        return Optional.ofNullable(out);
    }

    /** The heartbeat read first of those held, or null. */
    Pending oldest() {
        return pending.peekFirst();
    }

    int pending() {
        return pending.size();
    }

    private static boolean reached(Pending p, ToLongFunction<TopicPartition> published) {
        return p.ends.entrySet().stream().allMatch(e -> published.applyAsLong(e.getKey()) >= e.getValue());
    }
}
