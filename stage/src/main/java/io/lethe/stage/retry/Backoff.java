package io.lethe.stage.retry;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Bounded, jittered exponential backoff, the one retry pacing every stage uses: the n-th wait is
 * drawn uniformly from [d/2, d] where d = min(max, min * 2^n), so many consumers retrying the
 * same server spread out instead of arriving together. {@link #reset()} after a success.
 * Not thread-safe: one per retry loop.
 */
public final class Backoff {
    private final Duration min;
    private final Duration max;
    private final DoubleSupplier random;
    private int attempts;

    public Backoff(Duration min, Duration max) {
        this(min, max, () -> ThreadLocalRandom.current().nextDouble());
    }

    /** With the source of randomness in [0, 1) given, for tests. */
    public Backoff(Duration min, Duration max, DoubleSupplier random) {
        if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max, got " + min + " and " + max);
        }
        this.min = min;
        this.max = max;
        this.random = random;
    }

    /** The next wait, and counts an attempt. */
    public Duration next() {
        long ceiling = ceilingMillis(attempts);
        attempts = Math.min(attempts + 1, 62);
        long half = ceiling / 2;
        return Duration.ofMillis(half + (long) (random.getAsDouble() * (ceiling - half + 1)));
    }

    /** Sleeps for {@link #next()}. */
    public void sleep() throws InterruptedException {
        Thread.sleep(next().toMillis());
    }

    /** Attempts since the last reset. */
    public int attempts() {
        return attempts;
    }

    public void reset() {
        attempts = 0;
    }

    private long ceilingMillis(int n) {
        long ceiling = min.toMillis();
        for (int i = 0; i < n && ceiling < max.toMillis(); i++) {
            ceiling *= 2;
        }
        return Math.min(ceiling, max.toMillis());
    }
}
