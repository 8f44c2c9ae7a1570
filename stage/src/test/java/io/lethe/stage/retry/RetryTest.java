package io.lethe.stage.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

class RetryTest {
    private static final Logger LOG = LoggerFactory.getLogger(RetryTest.class);
    private final List<Duration> waits = new ArrayList<>();
    private final Backoff backoff = new Backoff(Duration.ofMillis(10), Duration.ofMillis(40), () -> 0.999);

    private Retry<RuntimeException> retry() {
        return Retry.of(LOG, backoff, "test: a flaky call").waiting(wait -> {
            waits.add(wait);
            return true;
        });
    }

    @Test
    void retriesUntilTheAttemptSucceedsWaitingTheBackoffBetweenAttempts() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<Integer> failed = new ArrayList<>();
        Optional<String> result = retry().onFailure((e, attempt) -> failed.add(attempt)).get(() -> {
            if (calls.incrementAndGet() < 4) {
                throw new IllegalStateException("not yet");
            }
            return "done";
        });
        assertEquals(Optional.of("done"), result);
        assertEquals(4, calls.get());
        assertEquals(List.of(1, 2, 3), failed, "every failure is told, numbered from 1");
        assertEquals(List.of(Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(40)), waits, "the backoff paces the waits");
    }

    @Test
    void eachRunStartsFromTheShortestWait() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        for (int run = 0; run < 2; run++) {
            calls.set(0);
            retry().run(() -> {
                if (calls.incrementAndGet() < 3) {
                    throw new IllegalStateException("not yet");
                }
            });
        }
        assertEquals(List.of(Duration.ofMillis(10), Duration.ofMillis(20), Duration.ofMillis(10), Duration.ofMillis(20)), waits);
    }

    @Test
    void givesUpAfterItsBoundWithoutPretendingSuccess() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        boolean done = retry().atMost(3, "the next start does it again").run(() -> {
            calls.incrementAndGet();
            throw new IllegalStateException("down");
        });
        assertFalse(done);
        assertEquals(3, calls.get());
        assertEquals(2, waits.size(), "no wait after the last attempt");
    }

    @Test
    void untilStoppedHasNoBoundAndUndoesOne() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        boolean done = retry().atMost(3, "given up").untilStopped().run(() -> {
            if (calls.incrementAndGet() < 1000) {
                throw new IllegalStateException("down");
            }
        });
        assertTrue(done, "a thousand failures and still trying: no bound");
        assertEquals(1000, calls.get());
    }

    @Test
    void stopsOnceTheStageIsClosingAndWhenTheWaitSaysSo() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        boolean done = retry().whileRunning(() -> calls.get() < 2).run(() -> {
            calls.incrementAndGet();
            throw new IllegalStateException("down");
        });
        assertFalse(done);
        assertEquals(2, calls.get(), "the stop condition is looked at after each failure");

        calls.set(0);
        Optional<String> none = Retry.of(LOG, backoff, "test").waiting(wait -> false).get(() -> {
            calls.incrementAndGet();
            throw new IllegalStateException("down");
        });
        assertTrue(none.isEmpty());
        assertEquals(1, calls.get(), "a wait that returns false ends the retries");
    }

    @Test
    void retriesOnlyTheGivenFailuresAndLetsOthersThrough() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Retry<IOException> io = retry().onFailure(IOException.class, (e, attempt) -> {
        });
        assertEquals(Optional.of(2), io.get(() -> {
            if (calls.incrementAndGet() < 2) {
                throw new IOException("reset");
            }
            return calls.get();
        }));
        assertThrows(IllegalArgumentException.class, () -> io.get(() -> {
            throw new IllegalArgumentException("a bug, not a wait");
        }));
    }

    @Test
    void anInterruptEndsTheRetriesWithTheInterrupt() {
        Retry<RuntimeException> sleeping = Retry.of(LOG, new Backoff(Duration.ofSeconds(10), Duration.ofSeconds(10)), "test");
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> sleeping.run(() -> {
            throw new IllegalStateException("down");
        }));
        assertFalse(Thread.interrupted(), "Thread.sleep consumed the flag and the exception carries it");
    }

    @Test
    void letsThroughWhatItMustNotRetry() {
        class Closing extends IllegalStateException {
        }
        AtomicInteger calls = new AtomicInteger();
        assertThrows(Closing.class, () -> retry().passing(Closing.class).run(() -> {
            calls.incrementAndGet();
            throw new Closing();
        }));
        assertEquals(1, calls.get());
    }
}
