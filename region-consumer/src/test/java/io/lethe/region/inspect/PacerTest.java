package io.lethe.region.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The sweep's and the inspector's pacing, on a moved clock. */
class PacerTest {
    private static final long STEP = 200_000_000L; // 5 a second

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AtomicLong slept = new AtomicLong();
    private final Pacer pacer = new Pacer(5, now::get, nanos -> {
        slept.addAndGet(nanos);
        now.addAndGet(nanos);
    });

    @Test
    void stepsComeAtTheRateAsked() throws InterruptedException {
        long start = now.get();
        for (int i = 0; i < 11; i++) {
            pacer.await();
        }
        assertEquals(10 * STEP, now.get() - start, "the first step at once, then one every 200 ms");
    }

    @Test
    void timeSpentInAStepCountsTowardsTheNextOne() throws InterruptedException {
        pacer.await();
        now.addAndGet(150_000_000L); // the query took 150 ms
        pacer.await();
        assertEquals(50_000_000L, slept.get(), "only what is left of the step is waited");
    }

    @Test
    void aStallEarnsNoBurstBeyondOneStep() throws InterruptedException {
        pacer.await();
        now.addAndGet(60_000_000_000L); // a minute waiting for the database
        long before = slept.get();
        for (int i = 0; i < 10; i++) {
            pacer.await();
        }
        assertEquals(8 * STEP, slept.get() - before, "ten steps after a stall: two at once, the rest paced (not 300 caught up)");
    }

    @Test
    void refusesANonPositiveRate() {
        assertThrows(IllegalArgumentException.class, () -> new Pacer(0, now::get, Pacer.SLEEP));
    }
}
