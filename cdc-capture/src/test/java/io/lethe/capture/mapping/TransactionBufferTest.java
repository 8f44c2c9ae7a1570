package io.lethe.capture.mapping;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TransactionBufferTest {
    private static final SourceTable ITEMS = new SourceTable("shop", "public", "items");
    private static final LetheConfig CONFIG = ConfigLoader.parse("t.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
            namespaces:
              item: { table: public.items, keys: ["item:{id}"] }
              other: { table: public.others, keys: ["other:{id}"] }
            """, n -> null);

    private static ChangeEvent row(long lsn, long txId) {
        return new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(lsn, ITEMS), ITEMS, Op.UPDATE, Map.of("id", 1), null,
                Map.of("id", 1), Long.toString(lsn), lsn, txId, 1, 2, null, null);
    }

    @Test
    void rowsWaitForTheirEndAndCarryItsCommitLsn() {
        TransactionBuffer buffer = new TransactionBuffer(CONFIG);
        assertTrue(buffer.begin(7, 0).isEmpty());
        assertTrue(buffer.add(row(100, 7), 0).isEmpty(), "held until END");
        assertTrue(buffer.add(row(110, 7), 0).isEmpty());
        assertTrue(buffer.isOpen());
        List<ChangeEvent> out = buffer.end(7, 150, 0);
        assertEquals(List.of(150L, 150L), out.stream().map(ChangeEvent::commitLsn).toList());
        assertEquals(List.of(150L, 150L), out.stream().map(ChangeEvent::visibleAfter).toList());
        assertFalse(buffer.isOpen());
    }

    @Test
    void aTransactionTooLargeToHoldGoesOutUnstampedAndItsEndResetsItsNamespaces() {
        TransactionBuffer buffer = new TransactionBuffer(CONFIG, 2);
        buffer.begin(8, 0);
        assertTrue(buffer.add(row(100, 8), 0).isEmpty());
        assertTrue(buffer.add(row(101, 8), 0).isEmpty());
        List<ChangeEvent> early = buffer.add(row(102, 8), 0);
        assertEquals(3, early.size(), "past the limit the held rows are handed over");
        assertTrue(early.stream().allMatch(e -> e.commitLsn() == null));
        List<ChangeEvent> end = buffer.add(row(103, 8), 0);
        assertTrue(end.isEmpty());
        List<ChangeEvent> out = buffer.end(8, 200, 0);
        assertEquals(2, out.size(), "the last held row and one reset for the one namespace of items");
        ChangeEvent reset = out.get(1);
        assertEquals(Op.RESET, reset.op());
        assertEquals("item", reset.namespace());
        assertEquals(200L, reset.commitLsn());
        assertEquals(1, buffer.overflows());
    }

    @Test
    void rowsOfATransactionWhoseBeginWasNotSeenEndWithAReset() {
        TransactionBuffer buffer = new TransactionBuffer(CONFIG);
        assertTrue(buffer.add(row(100, 9), 0).isEmpty());
        List<ChangeEvent> out = buffer.end(9, 120, 0);
        assertEquals(List.of(Op.UPDATE, Op.RESET), out.stream().map(ChangeEvent::op).toList());
    }

    @Test
    void anEndWithoutTheCommitLsnLeavesRowsUnstampedAndResets() {
        TransactionBuffer buffer = new TransactionBuffer(CONFIG);
        buffer.begin(10, 0);
        buffer.add(row(100, 10), 0);
        List<ChangeEvent> out = buffer.end(10, -1, 0);
        assertEquals(null, out.get(0).commitLsn());
        assertEquals(Op.RESET, out.get(1).op());
    }

    @Test
    void aRowTheCommitLsnCannotCoverIsHandedOverWithAReset() {
        TransactionBuffer buffer = new TransactionBuffer(CONFIG);
        buffer.begin(11, 0);
        buffer.add(row(100, 11), 0);
        buffer.add(row(300, 11), 0);
        List<ChangeEvent> out = buffer.end(11, 200, 0);
        assertEquals(200L, out.get(0).commitLsn());
        assertEquals(null, out.get(1).commitLsn(), "a commit LSN below the change cannot be its commit");
        assertEquals(Op.RESET, out.get(2).op());
    }
}
