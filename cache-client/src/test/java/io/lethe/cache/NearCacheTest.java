package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The near cache's suspension during an outage, on a moved clock. */
class NearCacheTest {
    private static final Duration D = Duration.ofSeconds(30);

    private static NearCache filled(MutableClock clock) {
        NearCache near = new NearCache(100, Duration.ofMinutes(10), clock);
        near.activate();
        near.completeRead("k", near.beginRead("k"), new NearCache.Entry("v", false, null));
        assertEquals("v", near.get("k").value());
        return near;
    }

    @Test
    void aSuspendedCopyIsServedStaleOnlyWithinTheBoundCountedFromWhenRedisLastAnswered() {
        MutableClock clock = new MutableClock();
        NearCache near = filled(clock);
        assertNull(near.getStale("k", D), "never stale while active");
        long lastAnswer = clock.millis();
        clock.advance(Duration.ofSeconds(5));
        near.suspend(lastAnswer);
        assertNull(near.get("k"), "no hits while suspended");
        clock.advance(Duration.ofSeconds(25));
        assertEquals("v", near.getStale("k", D).value(), "30 s after Redis last answered");
        assertNull(near.getStale("k", Duration.ofSeconds(29)), "a namespace with a shorter bound");
        clock.advance(Duration.ofMillis(1));
        assertNull(near.getStale("k", D), "older than the bound");
    }

    @Test
    void aSecondSuspensionKeepsTheFirstTimeAndActivationDropsWhatWasKept() {
        MutableClock clock = new MutableClock();
        NearCache near = filled(clock);
        near.suspend(clock.millis());
        clock.advance(Duration.ofSeconds(20));
        near.suspend(clock.millis()); // the breaker opening after the connection was lost
        clock.advance(Duration.ofSeconds(11));
        assertNull(near.getStale("k", D), "counted from the first suspension");
        near.activate();
        assertNull(near.get("k"), "copies kept through the outage are dropped: invalidations may have been missed");
        assertEquals(0, near.size());
    }

    @Test
    void aReadSentBeforeTheSuspensionDoesNotFillTheCache() {
        MutableClock clock = new MutableClock();
        NearCache near = new NearCache(100, Duration.ofMinutes(10), clock);
        near.activate();
        long token = near.beginRead("k");
        near.suspend(clock.millis());
        near.activate();
        near.completeRead("k", token, new NearCache.Entry("old", false, null));
        assertNull(near.get("k"), "its reply may come from before tracking was on again");
    }

    @Test
    void deactivationDropsEverythingAndServesNothingStale() {
        MutableClock clock = new MutableClock();
        NearCache near = filled(clock);
        near.deactivate(); // FLUSHALL: invalidations lost for sure
        assertNull(near.getStale("k", D));
        assertEquals(0, near.size());
    }
}
