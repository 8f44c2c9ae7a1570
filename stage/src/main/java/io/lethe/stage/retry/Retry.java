package io.lethe.stage.retry;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;

/**
 * The one retry loop of every stage: runs an attempt until it succeeds, waiting a {@link Backoff}
 * between attempts, until a stop condition holds (the stage is closing), a bound on attempts is
 * reached ({@link #atMost}; without one it retries {@link #untilStopped}), or the thread is interrupted. It never reports success for work that was not done: a
 * retry that ends without success returns empty, and the caller decides what that means (commit
 * nothing, invalidate wider, try again later).
 *
 * <p>It logs what it waits for with the caller's logger: the first failure of a run at WARN (with the
 * caller's description), further ones at DEBUG with the wait, the recovery at INFO, giving up at WARN
 * with its consequence. What a failure means (its class, metrics, health) is the caller's
 * {@link OnFailure}. Not thread-safe: one per retry loop, like its {@link Backoff}.
 *
 * <pre>{@code
 * Optional<Applied> applied = Retry.of(LOG, backoff, "region us-east: applying a batch")
 *         .whileRunning(() -> running)
 *         .onFailure(ApplyFailure.class, (e, attempt) -> metrics.retry(e.kind()))
 *         .get(() -> applier.apply(plan));
 * }</pre>
 */
public final class Retry<E extends Exception> {
    /** One attempt; throwing {@code E} (or what {@code E}'s class covers) asks for another. */
    @FunctionalInterface
    public interface Attempt<T, E extends Exception> {
        T run() throws E, InterruptedException;
    }

    /** One attempt of work without a result. */
    @FunctionalInterface
    public interface Action<E extends Exception> {
        void run() throws E, InterruptedException;
    }

    /** What a failed attempt means, before the wait: classify, count, report. {@code attempt} counts from 1. */
    @FunctionalInterface
    public interface OnFailure<E extends Exception> {
        void failed(E failure, int attempt);
    }

    /** How the wait between two attempts is spent; false ends the retries (the stage is closing). */
    @FunctionalInterface
    public interface Wait {
        boolean await(Duration wait) throws InterruptedException;
    }

    /** The plain wait: the thread sleeps. */
    public static final Wait SLEEP = wait -> {
        Thread.sleep(wait.toMillis());
        return true;
    };

    private final Logger log;
    private final Backoff backoff;
    private final String what;
    private final Class<E> retried;
    private final OnFailure<? super E> onFailure;
    private BooleanSupplier running = () -> true;
    private Wait wait = SLEEP;
    /** No bound on attempts: {@link #untilStopped}. */
    private static final int UNBOUNDED = 0;

    private int maxAttempts = UNBOUNDED;
    private String givingUp = "";
    private Class<? extends RuntimeException> passed;

    private Retry(Logger log, Backoff backoff, String what, Class<E> retried, OnFailure<? super E> onFailure) {
        this.log = log;
        this.backoff = backoff;
        this.what = what;
        this.retried = retried;
        this.onFailure = onFailure;
    }

    /**
     * Retries on any {@link RuntimeException}, with {@code what} (what is tried, with its
     * coordinates: "region us-east: loading the scripts into Redis ...") in the log lines.
     */
    public static Retry<RuntimeException> of(Logger log, Backoff backoff, String what) {
        return new Retry<>(log, backoff, what, RuntimeException.class, (e, attempt) -> {
        });
    }

    /** Retries on {@code retried} only (other exceptions end the run), telling each to {@code onFailure} first. */
    public <F extends Exception> Retry<F> onFailure(Class<F> retried, OnFailure<? super F> onFailure) {
        Retry<F> r = new Retry<>(log, backoff, what, retried, onFailure);
        r.running = running;
        r.wait = wait;
        r.maxAttempts = maxAttempts;
        r.givingUp = givingUp;
        r.passed = passed;
        return r;
    }

    /** As {@link #onFailure(Class, OnFailure)} for the class retried already. */
    public Retry<E> onFailure(OnFailure<? super E> onFailure) {
        return onFailure(retried, onFailure);
    }

    /** Stops retrying once {@code running} is false (looked at after each failure, before the wait). */
    public Retry<E> whileRunning(BooleanSupplier running) {
        this.running = running;
        return this;
    }

    /** Spends the waits with {@code wait} instead of sleeping (e.g. polling with partitions paused, to stay in a group). */
    public Retry<E> waiting(Wait wait) {
        this.wait = wait;
        return this;
    }

    /**
     * Gives up after {@code attempts} failed attempts, logging {@code consequence} (what not doing it
     * means), also when it stops because the stage is closing.
     */
    public Retry<E> atMost(int attempts, String consequence) {
        if (attempts < 1) {
            throw new IllegalArgumentException("a retry needs at least one attempt, got " + attempts);
        }
        this.maxAttempts = attempts;
        this.givingUp = consequence;
        return this;
    }

    /**
     * No bound on attempts (the default, said where a loop relies on it): retries until an attempt
     * succeeds, {@link #whileRunning} turns false, the {@link #waiting wait} says stop, or the thread
     * is interrupted. For work that must not be given up while the stage runs (a batch not yet
     * acknowledged, a commit, a first feed).
     */
    public Retry<E> untilStopped() {
        this.maxAttempts = UNBOUNDED;
        this.givingUp = "";
        return this;
    }

    /**
     * Lets {@code notRetried} through though the retried class covers it (a consumer's
     * {@code WakeupException}, which is a {@code KafkaException}: the stage is closing).
     */
    public Retry<E> passing(Class<? extends RuntimeException> notRetried) {
        this.passed = notRetried;
        return this;
    }

    /** Runs {@code attempt} until it succeeds; empty when it stopped or gave up first. */
    public <T> Optional<T> get(Attempt<? extends T, ? extends E> attempt) throws InterruptedException {
        backoff.reset();
        for (int n = 1;; n++) {
            E failure;
            try {
                T result = attempt.run();
                if (n > 1) {
                    log.info("{}: succeeded after {} attempts", what, n);
                }
                return Optional.of(result);
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                if (!retried.isInstance(e) || passed != null && passed.isInstance(e)) {
                    throw (RuntimeException) e; // an attempt throws only E, InterruptedException or unchecked exceptions
                }
                failure = retried.cast(e);
            }
            onFailure.failed(failure, n);
            if (maxAttempts != UNBOUNDED && n >= maxAttempts) {
                log.warn("{}: failed {} time(s), giving up ({}): {}", what, n, failure.toString(), givingUp);
                return Optional.empty();
            }
            if (!running.getAsBoolean()) {
                if (givingUp.isEmpty()) {
                    log.debug("{}: stopping before it succeeded ({})", what, failure.toString());
                } else {
                    log.warn("{}: stopping before it succeeded ({}): {}", what, failure.toString(), givingUp);
                }
                return Optional.empty();
            }
            Duration next = backoff.next();
            if (n == 1) {
                log.warn("{}: failed ({}); retrying", what, failure.toString());
            } else {
                log.debug("{}: attempt {} failed ({}); next in {} ms", what, n, failure.toString(), next.toMillis());
            }
            if (!wait.await(next)) {
                return Optional.empty();
            }
        }
    }

    /** Runs {@code action} until it succeeds; false when it stopped or gave up first. */
    public boolean run(Action<? extends E> action) throws InterruptedException {
        return get(() -> {
            action.run();
            return Boolean.TRUE;
        }).isPresent();
    }
}
