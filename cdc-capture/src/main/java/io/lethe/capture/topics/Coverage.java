package io.lethe.capture.topics;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;

/**
 * The LSNs the translation reached: per change partition, the offsets of translated row changes
 * and their LSNs, kept until a heartbeat past them is released (what a Debezium heartbeat vouches
 * for), the highest a watermark claimed, and the highest published (the LSN of resets).
 */
final class Coverage {
    private final Map<TopicPartition, TreeMap<Long, Long>> lsnAt = new HashMap<>();
    /** The highest LSN of a row change published, for resets (which need one). */
    private long maxLsn;
    /** The highest LSN a published watermark claims: only grows (within one history). */
    private long coveredLsn;
    /**
     * Per change partition, the end offset when the current history was taken on: a change below it
     * may be the old history's (written before the check that saw the new one), so it claims nothing.
     */
    private Map<TopicPartition, Long> fence = Map.of();

    /** A row change published (after a rewind it may be published again: harmless). */
    void published(long lsn) {
        maxLsn = Math.max(maxLsn, lsn);
    }

    long maxLsn() {
        return maxLsn;
    }

    /** What a heartbeat released at {@code ends} lets a watermark claim now: {@link #coveredBy}, never less than before. */
    long cover(Map<TopicPartition, Long> ends) {
        coveredLsn = Math.max(coveredLsn, coveredBy(ends));
        return coveredLsn;
    }

    /** A row change translated at {@code offset} of {@code partition}. */
    void translated(TopicPartition partition, long offset, long lsn) {
        if (offset < fence.getOrDefault(partition, 0L)) {
            return; // written before the history was taken on: its LSN may be a position in the old one
        }
        lsnAt.computeIfAbsent(partition, tp -> new TreeMap<>()).put(offset, lsn);
    }

    /** Forgets the offsets (a rewind reads them again); the LSNs reached stay. */
    void clear() {
        lsnAt.clear();
    }

    /**
     * A history is taken on ({@code io.lethe.schemas.SourceHistory}; another one, or the first after a
     * start) when the change partitions ended at {@code fence}: LSNs of the old one say nothing of the
     * new one's positions, and a change at an offset below the fence may be the old history's (the
     * translator lagging, or restarted, behind its connector), wherever it is translated from now on:
     * a watermark claims only changes at or beyond the fence. The offsets translated before are
     * forgotten; the highest LSN published stays, for resets.
     */
    void newHistory(Map<TopicPartition, Long> fence) {
        lsnAt.clear();
        coveredLsn = 0;
        this.fence = Map.copyOf(fence);
    }

    /** The end offsets the current history was taken on at ({@link #newHistory}). */
    Map<TopicPartition, Long> fence() {
        return fence;
    }

    /**
     * The LSN a heartbeat read when the change partitions ended at {@code ends} vouches for: the
     * highest LSN of a row change the connector wrote before it. Debezium emits transactions in commit
     * order, so every transaction that committed before that change's LSN was written before it too:
     * a read-your-writes token at or below it is covered. (Not the heartbeat's own position, which a
     * Debezium heartbeat does not carry; while no change flows it does not advance, and tokens read the
     * database.) The offsets below are forgotten, except the last.
     */
    private long coveredBy(Map<TopicPartition, Long> ends) {
        long covered = 0;
        for (var end : ends.entrySet()) {
            TreeMap<Long, Long> offsets = lsnAt.get(end.getKey());
            if (offsets == null) {
                continue;
            }
            var last = offsets.floorEntry(end.getValue() - 1);
            if (last != null) {
                covered = Math.max(covered, offsets.headMap(last.getKey(), true).values().stream().mapToLong(Long::longValue).max()
                        .orElse(0));
                offsets.headMap(last.getKey(), false).clear();
            }
        }
        return covered;
    }
}
