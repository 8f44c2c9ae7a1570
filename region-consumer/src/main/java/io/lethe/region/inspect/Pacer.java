package io.lethe.region.inspect;

import java.util.function.LongSupplier;

/**
 * Paces the inspector's and the sweep's work at so many steps a second: each {@link #await} returns
 * no sooner than one step's time after the previous one's slot. A step that came late (a slow
 * query, a wait on the database) does not earn a burst to catch up: at most one step's credit is
 * kept, so the rate the database sees is bounded whatever happened before.
 */
final class Pacer {
    /** How a pacer waits: {@link Thread#sleep} for so many nanoseconds. */
    interface Sleeper {
        void sleep(long nanos) throws InterruptedException;
    }

    static final Sleeper SLEEP = nanos -> Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));

    private final long nanosPerStep;
    private final LongSupplier nanoTime;
    private final Sleeper sleeper;
    private long nextAt;

    Pacer(int stepsPerSecond, LongSupplier nanoTime, Sleeper sleeper) {
        if (stepsPerSecond < 1) {
            throw new IllegalArgumentException("at least 1 step a second, was " + stepsPerSecond);
        }
        this.nanosPerStep = 1_000_000_000L / stepsPerSecond;
        this.nanoTime = nanoTime;
        this.sleeper = sleeper;
        this.nextAt = nanoTime.getAsLong();
    }

    /** Waits for the next step's slot and takes it. */
    void await() throws InterruptedException {
        long wait = nextAt - nanoTime.getAsLong();
        if (wait > 0) {
            sleeper.sleep(wait);
        }
        nextAt = Math.max(nextAt, nanoTime.getAsLong() - nanosPerStep) + nanosPerStep;
    }
}
