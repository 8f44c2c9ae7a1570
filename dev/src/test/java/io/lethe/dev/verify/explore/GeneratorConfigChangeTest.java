package io.lethe.dev.verify.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CONFIG_CHANGE draws configuration changes across a restart (a version source flipped, a region's
 * subscriptions changed), each a step the shrinker can drop and the JSON replays; the ci profile
 * draws none, so ExploreIT's programs stay as they were.
 */
class GeneratorConfigChangeTest {
    @Test
    void configChangesAreDrawnOnlyWithTheFeature() {
        int flipsToColumn = 0;
        int flipsToLsn = 0;
        int subscriptions = 0;
        List<Long> readersLast = new java.util.ArrayList<>();
        for (long seed = 1; seed <= 200; seed++) {
            Program p = Generator.generate(seed, Profile.named("ci").with("config-change"), 2);
            Program now = p;
            for (Step s : p.steps()) {
                if (s.kind() != Step.Kind.CONFIG) {
                    continue;
                }
                Program next = now.configuredBy(s);
                if (!s.rids().isEmpty()) {
                    readersLast.add(seed);
                }
                assertNotEquals(now, next, "seed " + seed + ": every drawn change changes the configuration: " + s.describe());
                if (s.b().equals("version column:ver")) {
                    flipsToColumn++;
                    assertEquals("lsn", now.namespace(s.a()).orElseThrow().version(), "seed " + seed + ": a flip from lsn");
                } else if (s.b().equals("version lsn")) {
                    flipsToLsn++;
                } else {
                    subscriptions++;
                    assertTrue(!next.partialRegionNamespaces().isEmpty(), "a region caching some namespaces keeps one at least");
                }
                now = next;
            }
            assertEquals(now, p.atEnd());
        }
        assertTrue(readersLast.size() > 10, "readers rolled out last in seeds " + readersLast);
        assertTrue(flipsToColumn > 0 && flipsToLsn > 0 && subscriptions > 0,
                "drawn: " + flipsToColumn + " flips to column:ver, " + flipsToLsn + " to lsn, " + subscriptions + " subscription changes");
        for (long seed = 1; seed <= 200; seed++) {
            assertTrue(Generator.generate(seed, Profile.named("ci"), 2).steps().stream().noneMatch(s -> s.kind() == Step.Kind.CONFIG),
                    "ci draws no configuration change (seed " + seed + ")");
        }
        assertTrue(Profile.named("all").has(Feature.CONFIG_CHANGE));
        assertEquals("fault", Feature.of("config-change").family());
    }

    @Test
    void aChangeThatNoLongerAppliesChangesNothingAndABadOneIsRefused() {
        Program found = null;
        for (long seed = 1; found == null; seed++) {
            Program g = Generator.generate(seed, Profile.named("ci").with("config-change"), 2);
            if (g.namespaces().size() > 1 && !g.partialRegionNamespaces().isEmpty()) {
                found = g;
            }
        }
        Program p = found;
        String cached = p.partialRegionNamespaces().get(0);
        Program none = p.withoutPartialRegion();
        assertEquals(none, none.configuredBy(Step.config(cached, "unsubscribe", List.of())),
                "no region caching some only: nothing to change");
        assertEquals(p, p.configuredBy(Step.config("gone", "version lsn", List.of())), "a namespace the shrinker dropped");
        Program flipped = p.configuredBy(Step.config(cached, "version column:ver", List.of()));
        assertEquals("column:ver", flipped.namespace(cached).orElseThrow().version());
        assertEquals(flipped, flipped.configuredBy(Step.config(cached, "version column:ver", List.of())));
        assertThrows(IllegalArgumentException.class, () -> p.configuredBy(Step.config(cached, "version xmin", List.of())));
        assertThrows(IllegalArgumentException.class, () -> p.configuredBy(Step.config(cached, "rename", List.of())));
        Program without = p.withSteps(List.of(Step.config(cached, "version column:ver", List.of()))).withoutNamespace(cached);
        assertTrue(without.steps().isEmpty(), "dropping a namespace drops its configuration changes");
    }

    @Test
    void theReproductionShowsBothConfigurationsAndTheJsonReplaysTheSteps(@TempDir Path dir) throws Exception {
        Program p = Generator.generate(1, Profile.named("ci").with("config-change"), 2).withSteps(
                List.of(Step.config("n0", "version column:ver", List.of())));
        String text = Repro.text(p, List.of("CREATE TABLE t ()"), "namespaces: before\n", java.util.Map.of(1, "namespaces: after\n"));
        assertTrue(text.contains("--   namespaces: before") && text.contains("-- lethe.yml from step 1 on\n--   namespaces: after"), text);
        assertTrue(text.contains("CONFIG n0: version column:ver"), text);
        Path file = dir.resolve("p.json");
        Repro.save(p, file);
        assertEquals(p, Repro.load(file));
        assertEquals(p, Repro.load(new ByteArrayInputStream(Files.readString(file).getBytes(StandardCharsets.UTF_8))));
    }
}
