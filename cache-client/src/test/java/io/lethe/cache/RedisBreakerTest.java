package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The breaker opens when Redis cannot be reached, not when it answers with an error. */
class RedisBreakerTest {
    private static final RedisBreaker.Options OPTIONS = new RedisBreaker.Options(50, Duration.ofSeconds(10), 20, Duration.ofSeconds(2));

    @Test
    void errorRepliesAreAnswersNotAnOutage() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RedisBreaker breaker = new RedisBreaker("127.0.0.1:1", OPTIONS, Clock.systemUTC(), registry);
        for (int i = 0; i < 50; i++) {
            // Redis at maxmemory under noeviction refuses the fills of a miss storm: it still serves every read
            breaker.call(() -> CompletableFuture
                    .failedFuture(new RedisCommandExecutionException("OOM command not allowed when used memory > 'maxmemory'")));
        }
        assertEquals(0, state(registry), "closed");
        for (int i = 0; i < 50; i++) {
            breaker.call(() -> CompletableFuture.failedFuture(new RedisConnectionException("Connection refused")));
        }
        assertEquals(1, state(registry), "open");
    }

    private static double state(SimpleMeterRegistry registry) {
        return registry.get(CacheMetrics.BREAKER_STATE).gauge().value();
    }
}
