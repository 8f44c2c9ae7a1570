package io.lethe.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Streams' poll.ms: half the commit interval, from 100 to 500 ms. */
class IdlePollTest {
    @Test
    void halfTheCommitIntervalWithinBounds() {
        assertEquals(Duration.ofMillis(500), StreamsService.idlePoll(Duration.ofSeconds(1)));
        assertEquals(Duration.ofMillis(100), StreamsService.idlePoll(Duration.ofMillis(100)));
        assertEquals(Duration.ofMillis(300), StreamsService.idlePoll(Duration.ofMillis(600)));
        assertEquals(Duration.ofMillis(500), StreamsService.idlePoll(Duration.ofMinutes(1)));
    }
}
