package io.lethe.stage.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** A group's backlog read from its commits and the partitions' offsets: {@link GroupOffsets#unread}. */
class GroupOffsetsTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final TopicPartition P2 = new TopicPartition("t", 2);

    @Test
    void aCommittedPartitionIsBehindByItsEndLessItsCommitAndAnUncommittedOneByAllItHolds() {
        Map<TopicPartition, OffsetAndMetadata> committed = Map.of(P0, new OffsetAndMetadata(7));
        Map<TopicPartition, Long> begin = Map.of(P0, 0L, P1, 3L, P2, 5L);
        Map<TopicPartition, Long> end = Map.of(P0, 10L, P1, 8L, P2, 5L);
        assertEquals(7, GroupOffsets.next(P0, committed, begin));
        assertEquals(3, GroupOffsets.next(P1, committed, begin), "no commit: from the partition's beginning");
        assertEquals(3 + 5 + 0, GroupOffsets.unread(List.of(P0, P1, P2), committed, begin, end));
        assertEquals(3, GroupOffsets.unread(List.of(P0), committed, begin, end), "only the partitions asked about");
    }

    @Test
    void aCommitMappedToNullIsNoCommitAndACommitBeyondTheEndIsNotNegative() {
        Map<TopicPartition, OffsetAndMetadata> committed = new HashMap<>();
        committed.put(P0, null);
        committed.put(P1, new OffsetAndMetadata(12));
        assertEquals(2 + 0, GroupOffsets.unread(List.of(P0, P1), committed, Map.of(P0, 4L, P1, 0L), Map.of(P0, 6L, P1, 10L)));
    }
}
