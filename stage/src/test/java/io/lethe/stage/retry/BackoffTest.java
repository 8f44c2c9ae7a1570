package io.lethe.stage.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void waitsDoubleUpToTheMaximumWithinTheirJitterBand() {
        Backoff low = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000), () -> 0.0);
        Backoff high = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000), () -> 0.999999);
        long[] lows = {50, 100, 200, 400, 500, 500};
        long[] highs = {100, 200, 400, 800, 1000, 1000};
        for (int i = 0; i < lows.length; i++) {
            assertEquals(lows[i], low.next().toMillis(), "attempt " + i + ", lowest draw");
            assertEquals(highs[i], high.next().toMillis(), "attempt " + i + ", highest draw");
        }
    }

    @Test
    void resetStartsOverAndAttemptsAreCounted() {
        Backoff b = new Backoff(Duration.ofMillis(10), Duration.ofSeconds(1), () -> 0.999999);
        b.next();
        b.next();
        assertEquals(2, b.attempts());
        b.reset();
        assertEquals(0, b.attempts());
        assertEquals(10, b.next().toMillis());
    }

    @Test
    void aMaximumBelowTheMinimumIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)));
    }
}
