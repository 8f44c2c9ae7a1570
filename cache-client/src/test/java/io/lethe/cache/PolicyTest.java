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

    @Test
    void onlyEventualNamespacesTakeUntrackedHotKeyCopies() {
        assertEquals(Duration.ofMillis(500), Policy.eventual().withHotKeyCopies(Duration.ofMillis(500)).hotKeyCopies());
        IllegalArgumentException bounded = assertThrows(IllegalArgumentException.class,
                () -> Policy.bounded(Duration.ofSeconds(5)).withHotKeyCopies(Duration.ofMillis(500)));
        assertTrue(bounded.getMessage().contains("eventual namespaces only"), bounded.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Policy.strong().withHotKeyCopies(Duration.ofMillis(500)));
    }

    @Test
    void earlyRefreshNeedsASoftExpiry() {
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> Policy.eventual().withEarlyRefresh(1));
        assertTrue(none.getMessage().contains("withStaleWhileRevalidate"), none.getMessage());
        assertEquals(1.0, Policy.eventual().withStaleWhileRevalidate(Duration.ofSeconds(10)).withEarlyRefresh(1).earlyRefresh());
        assertEquals(2.0, Policy.bounded(Duration.ofSeconds(5)).withEarlyRefresh(2).earlyRefresh());
        assertThrows(IllegalArgumentException.class, () -> Policy.bounded(Duration.ofSeconds(5)).withEarlyRefresh(-1));
        assertThrows(IllegalArgumentException.class, () -> Policy.bounded(Duration.ofSeconds(5)).withEarlyRefresh(Double.NaN));
    }
}
