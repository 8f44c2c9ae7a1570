package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The replica gate's queue, without servers: offsets are released only once the replica replayed past. */
class GatedBatchesTest {
    private static final TopicPartition P0 = new TopicPartition("lethe.invalidations.us-east", 0);

    private final AtomicLong replayed = new AtomicLong();
    /** The primary's position as the gate's next poll reads it; -1: no poll since the hold. */
    private final AtomicLong primary = new AtomicLong(-1);
    private final List<Long> told = new ArrayList<>();
    private final List<BatchPlan> reapplied = new ArrayList<>();
    private MockConsumer<String, byte[]> consumer;
    private OffsetLedger ledger;
    private GatedBatches gated;

    @BeforeEach
    void setUp() {
        consumer = new MockConsumer<>("none");
        ledger = new OffsetLedger(consumer, Duration.ZERO, System::nanoTime, () -> true, () -> false, c -> {
        }, () -> {
        }, p -> "");
        consumer.subscribe(List.of(P0.topic()), ledger);
        consumer.rebalance(List.of(P0));
        ReplayPosition replica = new ReplayPosition() {
            @Override
            public long replayed() {
                return replayed.get();
            }

            @Override
            public void applied(long lsn) {
                told.add(lsn);
            }

            @Override
            public long primaryAfter(long sinceNanos) {
                return primary.get();
            }
        };
        gated = new GatedBatches(replica, consumer, ledger, new RegionMetrics(new SimpleMeterRegistry(), "us-east"), "us-east");
    }

    private Applied reapply(BatchPlan plan) {
        reapplied.add(plan);
        return new Applied(Map.of(), List.of());
    }

    private static BatchPlan plan() {
        return BatchPlan.of(List.of());
    }

    @Test
    void aBatchIsReappliedAndReleasedOnlyOnceTheReplicaReplayedItsCommit() throws Exception {
        BatchPlan first = plan();
        BatchPlan second = plan();
        List<String> heartbeats = new ArrayList<>();
        gated.hold(first, Map.of(P0, new OffsetAndMetadata(10)), 100, () -> heartbeats.add("first"));
        gated.hold(second, Map.of(P0, new OffsetAndMetadata(20)), 200, () -> heartbeats.add("second"));
        assertEquals(List.of(100L, 200L), told);

        replayed.set(99);
        gated.release(this::reapply, () -> false);
        assertTrue(reapplied.isEmpty(), "the replica is behind the first commit");
        assertTrue(ledger.pending().isEmpty(), "nothing may be committed yet");
        assertTrue(heartbeats.isEmpty(), "a held batch's heartbeats are not applied: read-your-writes must not trust them yet");

        replayed.set(150);
        gated.release(this::reapply, () -> false);
        assertEquals(List.of(first), reapplied, "oldest first, and only what the replica passed");
        assertEquals(List.of("first"), heartbeats);
        assertEquals(Map.of(P0, new OffsetAndMetadata(10)), ledger.pending());

        replayed.set(200);
        gated.release(this::reapply, () -> false);
        assertEquals(List.of(first, second), reapplied);
        assertEquals(Map.of(P0, new OffsetAndMetadata(20)), ledger.pending());
    }

    @Test
    void aBatchThatCouldNotBeReappliedStaysGated() throws Exception {
        gated.hold(plan(), Map.of(P0, new OffsetAndMetadata(10)), 100, () -> {
        });
        replayed.set(100);
        gated.release(plan -> null, () -> false); // closing before Redis acknowledged
        assertTrue(ledger.pending().isEmpty());
        gated.release(this::reapply, () -> false);
        assertEquals(Map.of(P0, new OffsetAndMetadata(10)), ledger.pending());
    }

    @Test
    void fetchingPausesWhenTooManyBatchesWaitAndResumesAtHalf() throws Exception {
        for (int i = 0; i < GatedBatches.MAX_GATED_BATCHES; i++) {
            gated.hold(plan(), Map.of(P0, new OffsetAndMetadata(i + 1)), i + 1, () -> {
            });
        }
        gated.release(this::reapply, () -> false);
        assertTrue(gated.paused());
        assertEquals(Set.of(P0), consumer.paused());
        replayed.set(GatedBatches.MAX_GATED_BATCHES / 2 + 1);
        gated.release(this::reapply, () -> false);
        assertTrue(!gated.paused() && consumer.paused().isEmpty(), "resumed once half the queue was released");
    }

    /** A reset that carries no LSN (retention, a malformed change): it was made at some primary position nobody recorded. */
    private static BatchPlan resetWithoutLsn() {
        return BatchPlan.of(List.of(new InvalidationEvent(InvalidationEvent.SCHEMA_ID,
                "retention:1:reset:product", "product", Scope.NAMESPACE, null, "product:*",
                Action.DELETE, null, Versions.MAX, 0, null, 1, 1, 1, null,
                Op.RESET, null, null)));
    }

    @Test
    void aResetWithoutAnLsnWaitsForTheReplicaToReachThePrimarysPositionAfterItArrived() throws Exception {
        BatchPlan reset = resetWithoutLsn();
        List<String> heartbeats = new ArrayList<>();
        replayed.set(5_000);
        gated.hold(reset, Map.of(P0, new OffsetAndMetadata(10)), 0, () -> heartbeats.add("reset"));
        gated.release(this::reapply, () -> false);
        assertTrue(reapplied.isEmpty() && heartbeats.isEmpty() && ledger.pending().isEmpty(),
                "a reset with LSN 0 passed the gate while the replica (at 5000) may still be behind the primary: a reader on it could "
                        + "refill what the reset deleted");

        primary.set(6_000); // the gate's poll after the hold read the primary at 6000
        gated.release(this::reapply, () -> false);
        assertTrue(reapplied.isEmpty(), "the replica has not replayed the primary's position after the reset arrived");
        replayed.set(6_000);
        gated.release(this::reapply, () -> false);
        assertEquals(List.of(reset), reapplied);
        assertEquals(List.of("reset"), heartbeats);
        assertEquals(Map.of(P0, new OffsetAndMetadata(10)), ledger.pending());
    }

    @Test
    void aDrainedQueueResumesFetchingOnlyWhenNothingElseHoldsThePartitions() throws Exception {
        for (int i = 0; i < GatedBatches.MAX_GATED_BATCHES; i++) {
            gated.hold(plan(), Map.of(P0, new OffsetAndMetadata(i + 1)), 100 + i, () -> {
            });
        }
        gated.release(this::reapply, () -> false);
        assertTrue(gated.paused() && consumer.paused().contains(P0), "a full queue pauses fetching");

        replayed.set(Long.MAX_VALUE);
        gated.release(this::reapply, () -> true); // e.g. a configuration hold, or the sweeps' queue full
        assertTrue(!gated.paused() && consumer.paused().contains(P0),
                "the gate's queue drained while something else still keeps the partitions paused: they stay paused");
    }

    @Test
    void aReplicaThatIsNotAStandbyOfThePrimaryIsRefused() {
        assertTrue(ReplicaGate.refusal(false, "1", "1").contains("not a standby"));
        assertTrue(ReplicaGate.refusal(true, "2", "1").contains("another cluster"));
        assertEquals(null, ReplicaGate.refusal(true, "1", "1"));
    }
}
