package io.lethe.capture.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Changes wait, in their partition's order, for their transaction's END, and leave with its commit LSN. */
class TransactionStampsTest {
    private static final TopicPartition P0 = new TopicPartition("dbz.public.items", 0);
    private static final TopicPartition P1 = new TopicPartition("dbz.public.items", 1);
    private static final SourceTable ITEMS = new SourceTable("shop", "public", "items");

    private static TransactionStamps.Held change(TopicPartition tp, long offset, long lsn, Long txId) {
        ChangeEvent e = new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(lsn, ITEMS), ITEMS, Op.UPDATE, Map.of("id", offset),
                null, Map.of("id", offset), Long.toString(lsn), lsn, txId, 0, 0, null, null);
        return new TransactionStamps.Held(tp, offset, e, txId);
    }

    @Test
    void aChangeWaitsForItsEndAndHoldsBackItsPartitionOnly() {
        TransactionStamps stamps = new TransactionStamps(100, List.of("public.items"));
        stamps.hold(change(P0, 0, 100, 7L));
        stamps.hold(change(P0, 1, 300, 8L));
        stamps.hold(change(P1, 0, 110, 7L));
        stamps.hold(change(P1, 1, 400, null)); // a snapshot row: waits only for those before it
        assertEquals(List.of(), stamps.release());
        assertEquals(0, stamps.next(P0, 2));
        stamps.end(8, 350, Map.of("public.items", 1), 5);
        assertEquals(List.of(), stamps.release(), "transaction 8's change is behind transaction 7's");
        stamps.end(7, 150, Map.of("public.items", 2, "public.other", 3), 4);
        assertEquals(4, stamps.transactionsNext(6), "both ENDs are still needed");
        List<TransactionStamps.Held> out = stamps.release();
        assertEquals(4, out.size());
        Map<Long, Long> commitByLsn = new HashMap<>();
        out.forEach(h -> commitByLsn.put(h.event().lsn(), h.event().commitLsn() == null ? -1 : h.event().commitLsn()));
        assertEquals(Map.of(100L, 150L, 110L, 150L, 300L, 350L, 400L, -1L), commitByLsn);
        assertEquals(2, stamps.next(P0, 2));
        assertEquals(6, stamps.transactionsNext(6), "transaction 7's END also counts changes of a table Lethe does not read (none "
                + "will come): done once its items are released");
    }

    /** An END some change still needs is never forgotten, however many ENDs are read after it (its change would wait for good). */
    @Test
    void anEndAChangeStillNeedsIsNeverForgotten() {
        TransactionStamps stamps = new TransactionStamps(10, List.of("public.items"));
        stamps.end(1, 50, Map.of("public.items", 1), 0);
        for (long tx = 2; tx < 1_000; tx++) {
            stamps.end(tx, 50 + tx, Map.of("public.items", 1), tx);
        }
        assertEquals(999, stamps.pending(), "ENDs whose changes were not read yet");
        assertEquals(0, stamps.transactionsNext(1_000), "the first END is still needed: the transaction topic is not committed past it");
        stamps.hold(change(P0, 0, 40, 1L));
        List<TransactionStamps.Held> out = stamps.release();
        assertEquals(1, out.size(), "transaction 1's change is stamped: its END was kept");
        assertEquals(50L, out.get(0).event().commitLsn());
        assertEquals(998, stamps.pending());
        assertEquals(2, stamps.transactionsNext(1_000), "committed up to the next END still needed");
    }

    @Test
    void theTransactionTopicIsCommittedPastEndsNoChangeStillNeeds() {
        TransactionStamps stamps = new TransactionStamps(100, List.of("public.items"));
        stamps.end(1, 50, Map.of("public.items", 1), 0);
        assertEquals(0, stamps.transactionsNext(1));
        stamps.hold(change(P0, 0, 40, 1L));
        assertEquals(1, stamps.release().size());
        assertEquals(1, stamps.transactionsNext(1));
    }
}
