package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PolicyTest {
    @Test
    void onlyEventualNamespacesMayServeStaleDuringAnOutage() {
        assertEquals(Duration.ofSeconds(30), Policy.eventual().withStaleOnOutage(Duration.ofSeconds(30)).staleOnOutage());
        IllegalArgumentException strong = assertThrows(IllegalArgumentException.class,
                () -> Policy.strong().withStaleOnOutage(Duration.ofSeconds(30)));
        assertTrue(strong.getMessage().contains("eventual namespaces only"), strong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Policy.bounded(Duration.ofSeconds(5)).withStaleOnOutage(Duration.ofSeconds(1)));
        assertEquals(Duration.ZERO, Policy.strong().withStaleOnOutage(Duration.ZERO).staleOnOutage(), "zero is off, for any");
    }

    @Test
    void loadLimitsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> Policy.eventual().withLoadLimits(-1, 0, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> Policy.eventual().withLoadLimits(1, 0, Duration.ofMillis(-1)));
        assertTrue(Policy.eventual().loadLimits().unlimited());
    }
}
