package io.lethe.dev.verify.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ODD_NAMES draws columns and enum labels with the characters names may hold (the catalog query's
 * ASCII separators once broke the source state), quoted so that every statement is valid; the ci
 * profile draws none of it, so ExploreIT's programs stay as they were.
 */
class GeneratorOddNamesTest {
    @Test
    void oddNamesAreDrawnQuotedAndOnlyWithTheFeature() {
        int separators = 0;
        int labels = 0;
        for (long seed = 1; seed <= 200; seed++) {
            for (Step s : Generator.generate(seed, Profile.named("ci").with("odd-names"), 2).steps()) {
                for (String sql : s.sql()) {
                    if (sql.contains("\u001d\u001e\u001fsep")) {
                        separators++;
                        assertTrue(sql.contains("\"") || sql.contains("'"), "quoted: " + sql);
                    }
                    if (sql.startsWith("ALTER TYPE explore_mood RENAME VALUE")
                            && !sql.matches("[^\"]*RENAME VALUE '[a-z0-9 ]+' TO '[a-z0-9 ]+'")) {
                        labels++;
                    }
                }
            }
        }
        assertTrue(separators > 0, "a name holding ASCII 29-31 is drawn");
        assertTrue(labels > 0, "an odd enum label is drawn");
        long plain = 0;
        for (long seed = 1; seed <= 200; seed++) {
            plain += Generator.generate(seed, Profile.named("ci"), 2).steps().stream().flatMap(s -> s.sql().stream())
                    .filter(sql -> sql.contains("sep") || sql.contains("with space") || sql.contains(".dot")).count();
        }
        assertEquals(0, plain, "ci draws no odd name");
        assertEquals("\"a\"\"b\"", Generator.quoted("a\"b"));
        assertEquals("'it''s'", Generator.literal("it's"));
        assertTrue(List.of(Feature.values()).contains(Feature.ODD_NAMES));
    }
}
