package io.lethe.cache;

import java.time.Duration;

/** The circuit breaker in front of one region's Redis (see {@link LetheCache.Builder#circuitBreaker}). */
final class RedisBreaker {
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
}
