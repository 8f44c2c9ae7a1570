package io.lethe.embedded.junit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waiting for a sentinel in a test: a condition the system under test makes true, polled until a
 * deadline. Never a way to prove that something did not happen (write a sentinel behind it and
 * wait for that instead).
 */
public final class Await {
    private static final long POLL_MILLIS = 20;

    private Await() {
    }

    /** Returns once {@code condition} holds; fails with {@code what} after {@code timeout}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(POLL_MILLIS);
        }
    }
}
