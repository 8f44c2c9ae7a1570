package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The offset rules of a region, across rebalances, without servers. */
class OffsetLedgerTest {
    private static final String TOPIC = "lethe.invalidations.us-east";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);

    private final AtomicLong now = new AtomicLong();
    private final AtomicBoolean settled = new AtomicBoolean(true);
    private final AtomicBoolean holding = new AtomicBoolean();
    private final List<Map<TopicPartition, OffsetAndMetadata>> checkpoints = new ArrayList<>();
    private final AtomicLong commitRetries = new AtomicLong();
    private final AtomicReference<RuntimeException> commitFails = new AtomicReference<>();
    /** What the ledger committed, by partition (MockConsumer resets its own record on rebalance). */
    private final Map<TopicPartition, Long> commits = new ConcurrentHashMap<>();
    private final Map<TopicPartition, String> metadata = new ConcurrentHashMap<>();
    private MockConsumer<String, byte[]> consumer;
    private OffsetLedger ledger;

    @BeforeEach
    void setUp() {
        consumer = new MockConsumer<>("none") {
            @Override
            public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
                RuntimeException e = commitFails.getAndSet(null);
                if (e != null) {
                    throw e;
                }
                super.commitSync(offsets, timeout);
                offsets.forEach((tp, om) -> {
                    commits.put(tp, om.offset());
                    metadata.put(tp, om.metadata());
                });
            }
        };
        ledger = new OffsetLedger(consumer, Duration.ofMillis(100), now::get, settled::get, holding::get, checkpoints::add,
                commitRetries::incrementAndGet, p -> "watermark=" + (1000 + p));
        consumer.subscribe(List.of(TOPIC), ledger);
        consumer.rebalance(List.of(P0, P1));
    }

    private static Map<TopicPartition, OffsetAndMetadata> at(TopicPartition tp, long offset) {
        return Map.of(tp, new OffsetAndMetadata(offset));
    }

    private long committed(TopicPartition tp) {
        return commits.getOrDefault(tp, -1L);
    }

    @Test
    void appliedOffsetsAreCommittedOnlyOnceTheIntervalPassed() {
        ledger.applied(at(P0, 10));
        ledger.commitIfDue();
        assertEquals(-1, committed(P0), "not yet due");
        now.addAndGet(Duration.ofMillis(100).toNanos());
        ledger.commitIfDue();
        assertEquals(10, committed(P0));
        assertEquals("watermark=1000", metadata.get(P0), "each commit carries the partition's applied watermark");
        assertEquals(10, checkpoints.get(0).get(P0).offset(), "the committed offsets are checkpointed in Redis");
        assertTrue(ledger.pending().isEmpty());
    }

    @Test
    void anOffsetNeverMovesBack() {
        ledger.applied(at(P0, 10));
        ledger.applied(at(P0, 7));
        ledger.commit();
        assertEquals(10, committed(P0));
    }

    @Test
    void nothingIsCommittedWhileADeadLetterIsUnacknowledged() {
        settled.set(false);
        ledger.applied(at(P0, 10));
        ledger.commit();
        assertEquals(-1, committed(P0), "a crash now re-delivers the record whose dead letter may be lost");
        assertEquals(at(P0, 10), ledger.pending());
        settled.set(true);
        ledger.commit();
        assertEquals(10, committed(P0));
    }

    @Test
    void aPartitionRevokedDuringABatchDoesNotCommitIt() {
        ledger.batchStarted();
        consumer.rebalance(List.of(P1)); // P0 moves to another member while the batch is applied
        Map<TopicPartition, OffsetAndMetadata> owned = ledger
                .stillOwned(Map.of(P0, new OffsetAndMetadata(5), P1, new OffsetAndMetadata(8)));
        assertEquals(at(P1, 8), owned, "the new owner of P0 applies its records again");
        ledger.applied(owned);
        ledger.commit();
        assertEquals(-1, committed(P0));
        assertEquals(8, committed(P1));
    }

    @Test
    void revocationCommitsWhatWasAppliedForTheRevokedPartitions() {
        ledger.applied(Map.of(P0, new OffsetAndMetadata(4), P1, new OffsetAndMetadata(6)));
        consumer.rebalance(List.of(P1));
        assertEquals(4, committed(P0), "committed on revocation, before the next owner starts");
        assertEquals("watermark=1000", metadata.get(P0));
        assertEquals(at(P1, 6), ledger.pending(), "the kept partition waits for the interval");
    }

    @Test
    void revocationWithAnUnacknowledgedDeadLetterLeavesThePartitionToTheNextOwner() {
        settled.set(false);
        ledger.applied(at(P0, 4));
        consumer.rebalance(List.of(P1));
        assertEquals(-1, committed(P0));
        assertTrue(ledger.pending().isEmpty());
    }

    @Test
    void lostPartitionsAreNotCommitted() {
        ledger.applied(at(P0, 4));
        ledger.onPartitionsLost(List.of(P0));
        ledger.commit();
        assertEquals(-1, committed(P0));
    }

    @Test
    void partitionsAssignedWhileTheLoopHoldsItsPartitionsArePaused() {
        holding.set(true);
        consumer.rebalance(List.of(P0, P1, new TopicPartition(TOPIC, 2)));
        assertTrue(consumer.paused().contains(new TopicPartition(TOPIC, 2)), consumer.paused().toString());
    }

    @Test
    void aFailedCommitIsRetriedAndAMovedOneDropped() {
        ledger.applied(at(P0, 3));
        commitFails.set(new TimeoutException("broker away"));
        ledger.commit();
        assertEquals(1, commitRetries.get());
        assertEquals(at(P0, 3), ledger.pending(), "kept for the next commit");
        commitFails.set(new CommitFailedException());
        ledger.commit();
        assertTrue(ledger.pending().isEmpty(), "the partition moved: its next owner applies the records again");
    }

    @Test
    void aRewoundPartitionForgetsItsPendingOffset() {
        ledger.applied(at(P0, 30));
        ledger.forget(P0);
        ledger.commit();
        assertEquals(-1, committed(P0));
    }
}
