package io.lethe.region.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.ScanCursor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sweep's place in a namespace's keys: every key once a pass, resumed step by step, across failures, for ever. */
class NamespaceWalkTest {
    private static final NamespaceConfig NS = namespace();

    private static NamespaceConfig namespace() {
        LetheConfig config = ConfigLoader.parse("unit.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  item: { table: public.items, keys: ["item:{id}", "items:{id}:v"] }
                """, name -> null);
        return config.namespaces().get("item");
    }

    /** Pages per glob; a cursor is the index of the next page. */
    private static final class Pages implements NamespaceWalk.Scanner {
        final Map<String, List<List<String>>> pages;
        final List<String> calls = new ArrayList<>();
        int failNext;

        Pages(Map<String, List<List<String>>> pages) {
            this.pages = pages;
        }

        @Override
        public KeyScanCursor<String> scan(ScanCursor cursor, String glob, int count) {
            if (failNext > 0) {
                failNext--;
                throw new RedisCommandTimeoutException("Redis paused");
            }
            int page = cursor == ScanCursor.INITIAL ? 0 : Integer.parseInt(cursor.getCursor());
            calls.add(glob + "#" + page);
            List<List<String>> all = pages.getOrDefault(glob, List.of(List.of()));
            KeyScanCursor<String> out = new KeyScanCursor<>();
            out.getKeys().addAll(all.get(page));
            out.setCursor(Integer.toString(page + 1));
            out.setFinished(page + 1 == all.size());
            return out;
        }
    }

    private static NamespaceWalk walk() {
        return new NamespaceWalk(NS, List.of(List.of(), List.of(NS.keys().get(0))));
    }

    /** Steps until the pass ends: the keys given to judge, in order. */
    private static List<String> pass(NamespaceWalk walk, NamespaceWalk.Scanner scanner, NamespaceWalk.Selector selector) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            NamespaceWalk.Step step = walk.next(scanner, selector);
            if (step.passEnded()) {
                return keys;
            }
            if (step.key() != null) {
                keys.add(step.key());
            }
        }
        throw new AssertionError("no end of pass: " + keys);
    }

    @Test
    void aPassGivesEveryKeyOfEveryTemplateOnceThenTheWalkStartsAgain() {
        Pages pages = new Pages(Map.of("item:*", List.of(List.of("item:1", "item:2"), List.of(), List.of("item:3")),
                "items:*:v", List.of(List.of("items:7:v"))));
        NamespaceWalk walk = walk();
        assertEquals(List.of("item:1", "item:2", "item:3", "items:7:v"), pass(walk, pages, (t, k, b) -> true));
        assertEquals(1, walk.passes());
        assertEquals(List.of("item:*#0", "item:*#1", "item:*#2", "items:*:v#0"), pages.calls, "one SCAN step per page, resumed");
        assertEquals(List.of("item:1", "item:2", "item:3", "items:7:v"), pass(walk, pages, (t, k, b) -> true), "the next pass");
        assertEquals(2, walk.passes());
    }

    @Test
    void eachScanPageIsAStepSoAnEmptyKeyspaceCostsAStepPerTemplateAndPass() {
        Pages pages = new Pages(Map.of());
        NamespaceWalk walk = walk();
        NamespaceWalk.Step first = walk.next(pages, (t, k, b) -> true);
        assertNull(first.key());
        assertFalse(first.passEnded());
        assertFalse(walk.next(pages, (t, k, b) -> true).passEnded(), "the second template's scan");
        assertTrue(walk.next(pages, (t, k, b) -> true).passEnded());
        assertEquals(2, pages.calls.size());
    }

    @Test
    void aFailedScanIsResumedFromTheSameCursorNothingLostNothingTwice() {
        Pages pages = new Pages(Map.of("item:*", List.of(List.of("item:1"), List.of("item:2"), List.of("item:3"))));
        NamespaceWalk walk = walk();
        NamespaceWalk.Selector all = (t, k, b) -> true;
        assertNull(walk.next(pages, all).key());
        assertEquals("item:1", walk.next(pages, all).key());
        pages.failNext = 1;
        assertThrows(RedisCommandTimeoutException.class, () -> walk.next(pages, all));
        List<String> rest = pass(walk, pages, all);
        assertEquals(List.of("item:2", "item:3"), rest);
        assertEquals(List.of("item:*#0", "item:*#1", "item:*#2", "items:*:v#0"), pages.calls);
    }

    @Test
    void keysTheSelectorLeavesOutTakeNoStepAndEachTemplateKnowsTheOnesBeforeIt() {
        Pages pages = new Pages(Map.of("item:*", List.of(List.of("item:1", "lethe:x", "item:2")),
                "items:*:v", List.of(List.of("items:7:v"))));
        List<String> befores = new ArrayList<>();
        List<String> keys = pass(walk(), pages, (t, k, b) -> {
            befores.add(t.text() + "<" + b.size());
            return !k.startsWith("lethe:");
        });
        assertEquals(List.of("item:1", "item:2", "items:7:v"), keys);
        assertEquals(List.of("item:{id}<0", "item:{id}<0", "item:{id}<0", "items:{id}:v<1"), befores);
    }

    @Test
    void oneListOfEarlierTemplatesPerTemplate() {
        assertThrows(IllegalArgumentException.class, () -> new NamespaceWalk(NS, List.of(List.of())));
    }
}
