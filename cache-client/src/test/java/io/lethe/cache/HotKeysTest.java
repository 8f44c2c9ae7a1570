package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HotKeysTest {
    @Test
    void aKeyTakingMoreThanTheThresholdOfTheReadsIsHotAndUniformKeysAreNot() {
        HotKeys hot = new HotKeys(10_000, 100, 64);
        Random random = new Random(7);
        for (int i = 0; i < 30_000; i++) {
            // 3 % of the reads go to the celebrity, the rest spread over 100,000 keys
            hot.record(random.nextInt(100) < 3 ? "user:celebrity" : "user:" + random.nextInt(100_000));
        }
        assertTrue(hot.isHot("user:celebrity"));
        List<HotKey> top = hot.top(5);
        assertEquals("user:celebrity", top.get(0).key(), "hottest first: " + top);
        assertEquals(1, hot.size(), "no uniformly read key reaches 1 % of the reads: " + top);
        assertTrue(top.get(0).reads() >= 100, "its estimate is an upper bound of ~300 reads a window: " + top);
    }

    @Test
    void aKeyNoLongerReadCoolsDownWithinTwoWindows() {
        HotKeys hot = new HotKeys(1_000, 50, 8);
        for (int i = 0; i < 1_000; i++) {
            hot.record(i % 10 == 0 ? "hot" : "k" + i);
        }
        assertTrue(hot.isHot("hot"));
        for (int i = 0; i < 2_000; i++) {
            hot.record("other" + i);
        }
        assertFalse(hot.isHot("hot"), "halved twice without reads: " + hot.top(8));
    }

    @Test
    void atMostCapacityKeysAreHotTheHottestKept() {
        HotKeys hot = new HotKeys(100_000, 10, 3);
        for (int round = 0; round < 100; round++) {
            for (int k = 0; k < 6; k++) {
                for (int r = 0; r <= k; r++) { // key k is read k + 1 times a round
                    hot.record("key" + k);
                }
            }
        }
        assertEquals(List.of("key5", "key4", "key3"), hot.top(10).stream().map(HotKey::key).toList());
    }

    @Test
    void nonsenseSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new HotKeys(8, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new HotKeys(100, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new HotKeys(100, 200, 1));
        assertThrows(IllegalArgumentException.class, () -> new HotKeys(100, 10, 0));
    }
}
