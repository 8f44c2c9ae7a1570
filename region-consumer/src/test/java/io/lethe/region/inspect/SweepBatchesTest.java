package io.lethe.region.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sweep's suspects: batched, confirmed once the applied watermark passed the position read after them, or given up. */
class SweepBatchesTest {
    private static final long MS = 1_000_000L;

    private final SweepBatches batches = new SweepBatches(Duration.ofSeconds(60));
    private long position = 1000;
    private long applied;
    private int positionReads;
    private final SweepBatches.Source source = new SweepBatches.Source() {
        @Override
        public long position() {
            positionReads++;
            return position;
        }

        @Override
        public boolean reached(long p) {
            return applied >= p;
        }
    };

    private static Suspect suspect() {
        return new Suspect(null, null, null, null);
    }

    @Test
    void suspectsOfASecondShareOnePositionAndComeBackOnceTheWatermarkPassedIt() throws Exception {
        Suspect a = suspect();
        Suspect b = suspect();
        batches.add(a, 0);
        assertEquals(SweepBatches.Outcome.NONE, batches.step(10 * MS, false, source));
        batches.add(b, 500 * MS);
        assertEquals(0, positionReads, "the batch is still open");
        assertEquals(SweepBatches.Outcome.NONE, batches.step(1000 * MS, false, source));
        assertEquals(1, positionReads, "closed after a second: one position for both");
        position = 2000; // later changes do not move the closed batch's position
        applied = 999;
        assertEquals(SweepBatches.Outcome.NONE, batches.step(1300 * MS, false, source));
        applied = 1000;
        SweepBatches.Outcome out = batches.step(1600 * MS, false, source);
        assertEquals(List.of(a, b), out.ready());
        assertEquals(0, batches.size());
    }

    @Test
    void aBatchTheWatermarkDoesNotReachInTimeIsGivenUp() throws Exception {
        Suspect a = suspect();
        batches.add(a, 0);
        batches.step(0, true, source);
        assertEquals(SweepBatches.Outcome.NONE, batches.step(59_000 * MS, false, source));
        SweepBatches.Outcome out = batches.step(60_000 * MS, false, source);
        assertEquals(List.of(a), out.expired());
        assertTrue(out.ready().isEmpty());
    }

    @Test
    void theEndOfAPassClosesTheOpenBatchAtOnce() throws Exception {
        batches.add(suspect(), 0);
        batches.step(1, true, source);
        assertEquals(1, positionReads);
    }

    @Test
    void oneBatchWaitsAtATimeAndAFullOpenOneStopsTheWalk() throws Exception {
        batches.add(suspect(), 0);
        batches.step(0, true, source);
        for (int i = 0; i < SweepBatches.MAX_BATCH - 1; i++) {
            batches.add(suspect(), MS);
        }
        assertFalse(batches.full());
        batches.add(suspect(), MS);
        batches.step(2 * MS, true, source);
        assertEquals(1, positionReads, "the second batch does not close while the first waits");
        assertTrue(batches.full(), "a full open batch behind a waiting one stops the walk");
        applied = position;
        SweepBatches.Outcome out = batches.step(300 * MS, false, source);
        assertEquals(1, out.ready().size());
        assertEquals(2, positionReads, "the full batch closes as soon as the first came back");
        assertFalse(batches.full());
    }
}
