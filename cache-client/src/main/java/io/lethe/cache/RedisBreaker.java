package io.lethe.cache;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breaker in front of one region's Redis (see {@link LetheCache.Builder#circuitBreaker}),
 * a resilience4j {@link CircuitBreaker} over a time-based window: every command it guards is
 * counted, a failure or a timeout as an error; while it is open a guarded command fails at once
 * with {@link CallNotPermittedException} instead of waiting for the command timeout. It also
 * remembers when Redis last answered: the near cache's copies were coherent up to then.
 */
final class RedisBreaker {
    private static final Logger LOG = LoggerFactory.getLogger(RedisBreaker.class);
    /** Probe reads let through when the open time is over; all must succeed to close. */
    static final int PROBES = 3;

    /** Validated settings; see {@link LetheCache.Builder#circuitBreaker}. */
    record Options(float failureRatePercent, Duration window, int minimumCalls, Duration openFor) {
        static final Options DEFAULT = new Options(50, Duration.ofSeconds(10), 20, Duration.ofSeconds(2));

        Options {
            if (!(failureRatePercent > 0 && failureRatePercent <= 100)) {
                throw new IllegalArgumentException("circuitBreaker failureRatePercent must be in (0, 100], was " + failureRatePercent);
            }
            if (window == null || window.toSeconds() < 1) {
                throw new IllegalArgumentException("circuitBreaker window must be at least 1 s, was " + window);
            }
            if (minimumCalls < 1) {
                throw new IllegalArgumentException("circuitBreaker minimumCalls must be >= 1, was " + minimumCalls);
            }
            if (openFor == null || openFor.isZero() || openFor.isNegative()) {
                throw new IllegalArgumentException("circuitBreaker openFor must be positive, was " + openFor);
            }
        }
    }

    private final CircuitBreaker breaker;
    private final Clock clock;
    private final String redis;
    private volatile long lastAnswerMillis;

    RedisBreaker(String redis, Options options, Clock clock, MeterRegistry registry) {
        this.redis = redis;
        this.clock = clock;
        this.lastAnswerMillis = clock.millis();
        CircuitBreakerConfig config = CircuitBreakerConfig.custom()
                .failureRateThreshold(options.failureRatePercent())
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
                .slidingWindowSize((int) options.window().toSeconds())
                .minimumNumberOfCalls(options.minimumCalls())
                .waitDurationInOpenState(options.openFor())
                .permittedNumberOfCallsInHalfOpenState(PROBES)
                .recordException(e -> true)
                .clock(clock)
                .build();
        this.breaker = CircuitBreaker.of("redis " + redis, config);
        Gauge.builder(CacheMetrics.BREAKER_STATE, breaker, b -> switch (b.getState()) {
            case CLOSED -> 0;
            case OPEN, FORCED_OPEN -> 1;
            default -> 2;
        }).tag("redis", redis).description("the region Redis circuit breaker: 0 closed, 1 open, 2 half-open").register(registry);
        breaker.getEventPublisher().onStateTransition(e -> {
            registry.counter(CacheMetrics.BREAKER_TRANSITIONS, "redis", redis, "to", stateName(e.getStateTransition().getToState()))
                    .increment();
            LOG.warn("Redis {} circuit breaker: {}", redis, e.getStateTransition());
        });
    }

    private static String stateName(CircuitBreaker.State s) {
        return s.name().toLowerCase().replace('_', '-');
    }

    /** Calls {@code onOpen} with the time Redis last answered, {@code onClose} when probes succeeded. */
    void onTransitions(Consumer<Long> onOpen, Runnable onClose) {
        breaker.getEventPublisher().onStateTransition(e -> {
            switch (e.getStateTransition().getToState()) {
                case OPEN, FORCED_OPEN -> onOpen.accept(lastAnswerMillis);
                case CLOSED -> onClose.run();
                default -> {
                }
            }
        });
    }

    /** When Redis last answered a guarded command (epoch millis). */
    long lastAnswerMillis() {
        return lastAnswerMillis;
    }

    boolean closed() {
        return breaker.getState() == CircuitBreaker.State.CLOSED;
    }

    /** Runs {@code command} if the breaker lets it through, recording how it ended; else fails at once. */
    <R> CompletableFuture<R> call(Supplier<CompletableFuture<R>> command) {
        if (!breaker.tryAcquirePermission()) {
            return CompletableFuture.failedFuture(CallNotPermittedException.createCallNotPermittedException(breaker));
        }
        long t0 = System.nanoTime();
        CompletableFuture<R> sent;
        try {
            sent = command.get();
        } catch (RuntimeException e) {
            breaker.onError(System.nanoTime() - t0, TimeUnit.NANOSECONDS, e);
            return CompletableFuture.failedFuture(e);
        }
        return sent.whenComplete((r, error) -> {
            long took = System.nanoTime() - t0;
            if (error == null || answered(error)) {
                // an error reply (OOM at maxmemory, NOPERM, a script error) is Redis answering: not an outage
                lastAnswerMillis = clock.millis();
                breaker.onSuccess(took, TimeUnit.NANOSECONDS);
            } else {
                breaker.onError(took, TimeUnit.NANOSECONDS, error);
            }
        });
    }

    /** True when {@code error} is Redis's own error reply to a command, not a failure to reach it or a timeout. */
    static boolean answered(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof io.lettuce.core.RedisCommandExecutionException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "RedisBreaker[" + redis + ", " + breaker.getState() + "]";
    }
}
