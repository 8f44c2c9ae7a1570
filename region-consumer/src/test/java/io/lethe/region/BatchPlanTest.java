package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.region.apply.BatchPlan;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchPlanTest {

    private static InvalidationEvent upsert(String key, String version) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, key + version + "u", "n", Scope.ROW, key, null,
                Action.UPSERT, "p" + version, version, 1, 1L, 1, 1, 1, null, Op.UPDATE, null, null);
    }

    @Test
    void keepsTheHighestVersionPerKeyWhateverTheOrder() {
        for (long seed = 0; seed < 50; seed++) {
            List<InvalidationEvent> events = new ArrayList<>();
            for (int v = 1; v <= 20; v++) {
                events.add(RegionFixture.key("n", "a", Integer.toString(v)));
                events.add(RegionFixture.key("n", "a", Integer.toString(v)));
                events.add(RegionFixture.key("n", "b", Integer.toString(100 + v)));
            }
            Collections.shuffle(events, new Random(seed));
            BatchPlan plan = BatchPlan.of(events);
            assertEquals(2, plan.keys().size());
            assertEquals("20", plan.keys().stream().filter(e -> e.key().equals("a")).findFirst().orElseThrow().version());
            assertEquals("120", plan.keys().stream().filter(e -> e.key().equals("b")).findFirst().orElseThrow().version());
            assertEquals(events.size() - 2, plan.superseded());
        }
    }

    @Test
    void comparesVersionsAsNumbersAndPrefersDeleteOnATie() {
        BatchPlan plan = BatchPlan.of(List.of(upsert("k", "9"), upsert("k", "10")));
        assertEquals("10", plan.keys().get(0).version(), "10 > 9 although \"10\" < \"9\" as text");
        BatchPlan tie = BatchPlan.of(List.of(upsert("k", "10"), RegionFixture.key("n", "k", "10")));
        assertEquals(Action.DELETE, tie.keys().get(0).action());
    }

    @Test
    void patternsAreKeptOncePerGlobAtTheirHighestVersion() {
        BatchPlan plan = BatchPlan.of(List.of(
                RegionFixture.pattern("n", Scope.PATTERN, "s:*", "5", Op.UPDATE),
                RegionFixture.pattern("n", Scope.PATTERN, "s:*", "7", Op.UPDATE),
                RegionFixture.pattern("n", Scope.NAMESPACE, "s:*", "6", Op.TRUNCATE)));
        assertEquals(2, plan.patterns().size(), "a namespace-wide event is kept apart from a configured pattern");
        assertEquals("7", plan.patterns().get(0).version());
    }

    @Test
    void eventsOfTwoNamespacesAreNeverMergedIntoOne() {
        BatchPlan plan = BatchPlan.of(List.of(
                RegionFixture.pattern("item", Scope.PATTERN, "search:*", "9", Op.UPDATE),
                RegionFixture.pattern("tag", Scope.PATTERN, "search:*", "5", Op.UPDATE),
                RegionFixture.pattern("tag", Scope.NAMESPACE, "search:*", "6", Op.TRUNCATE),
                RegionFixture.pattern("item", Scope.NAMESPACE, "search:*", "8", Op.TRUNCATE),
                RegionFixture.key("item", "shared:1", "9"),
                RegionFixture.key("tag", "shared:1", "3")));
        assertEquals(List.of("item", "tag", "tag", "item"), plan.patterns().stream().map(InvalidationEvent::namespace).toList(),
                "a pattern two namespaces share is kept once per namespace and scope");
        assertEquals(List.of("item", "tag"), plan.keys().stream().map(InvalidationEvent::namespace).toList(),
                "a key two namespaces render is kept once per namespace");
        assertEquals(0, plan.superseded());
    }
}
