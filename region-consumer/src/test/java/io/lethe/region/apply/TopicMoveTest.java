package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a region's Redis marker says it must invalidate wholesale when the configuration changed under it. */
class TopicMoveTest {
    private static final String TOPIC = "lethe.invalidations";

    private static TopicMove.Marker marker(TopicMove.Fed fed) {
        return new TopicMove.Marker() {
            @Override
            public Optional<TopicMove.Fed> read() {
                return Optional.of(fed);
            }

            @Override
            public void write(TopicMove.Fed f) {
                throw new AssertionError("detect writes nothing");
            }
        };
    }

    @Test
    void aNamespaceWhoseKeyTemplatesChangedIsInvalidatedByItsOldAndNewGlobs() throws Exception {
        TopicMove.Fed before = new TopicMove.Fed(TOPIC, List.of("product", "user"),
                Map.of("product", List.of("product:*"), "user", List.of("user:*")));
        TopicMove.Fed now = new TopicMove.Fed(TOPIC, List.of("product", "user"),
                Map.of("product", List.of("product:v2:*"), "user", List.of("user:*")));
        TopicMove.Moved move = TopicMove.detect(marker(before), null, "g", null, now).orElseThrow();
        assertEquals(List.of("product"), now.invalidatedFor(move, List.of("product", "user")),
                "streams renders only the new keys: entries of the old template would get no invalidation again");
        assertEquals(List.of("product:*"), move.formerGlobs().get("product"), "the old globs go with the move");
    }

    @Test
    void aTemplateChangedUnderTheSameGlobIsInvalidatedToo() throws Exception {
        // user:{id} -> user:{email}: both are user:*, but streams renders only the new keys from now on
        TopicMove.Fed before = new TopicMove.Fed(TOPIC, List.of("user"), Map.of("user", List.of("user:*")),
                Map.of("user", List.of("key/v2:user:{id}")));
        TopicMove.Fed now = new TopicMove.Fed(TOPIC, List.of("user"), Map.of("user", List.of("user:*")),
                Map.of("user", List.of("key/v2:user:{email}")));
        TopicMove.Moved move = TopicMove.detect(marker(before), null, "g", null, now).orElseThrow();
        assertEquals(List.of("user"), now.invalidatedFor(move, List.of("user")));
    }

    @Test
    void aNamespaceWhoseEntriesHoldSomethingElseNowIsInvalidated() throws Exception {
        // the same keys, but versions from a column now: an entry filled at an LSN is never reached by ver = 2; the same
        // for another table's rows under the same keys
        Map<String, List<String>> globs = Map.of("product", List.of("product:*"), "user", List.of("user:*"));
        Map<String, List<String>> rendered = Map.of("product", List.of("key/v2:product:{id}"), "user", List.of("key/v2:user:{id}"));
        TopicMove.Fed before = new TopicMove.Fed(TOPIC, List.of("product", "user"), globs, rendered, "c",
                Map.of("product", List.of("table:public.products", "version:lsn", "mode:DELETE"), "user",
                        List.of("table:public.users", "version:lsn", "mode:DELETE")));
        TopicMove.Fed now = new TopicMove.Fed(TOPIC, List.of("product", "user"), globs, rendered, "c",
                Map.of("product", List.of("table:public.products", "version:column:ver", "mode:DELETE"), "user",
                        List.of("table:public.users_v2", "version:lsn", "mode:DELETE")));
        TopicMove.Moved move = TopicMove.detect(marker(before), null, "g", null, now).orElseThrow();
        assertEquals(List.of("product", "user"), now.invalidatedFor(move, List.of("product", "user")));
        assertTrue(TopicMove.detect(marker(now), null, "g", null, now).isEmpty(), "the same entries: no move");
    }

    @Test
    void aMarkerWrittenBeforeWhatEntriesHoldWasRecordedIsNoMove() throws Exception {
        // an upgrade must not cost every region a cold cache: nothing recorded, nothing to compare
        Map<String, List<String>> globs = Map.of("product", List.of("product:*"));
        TopicMove.Fed before = new TopicMove.Fed(TOPIC, List.of("product"), globs, Map.of(), "c");
        TopicMove.Fed now = new TopicMove.Fed(TOPIC, List.of("product"), globs, Map.of(), "c",
                Map.of("product", List.of("table:public.products", "version:lsn", "mode:DELETE")));
        assertTrue(TopicMove.detect(marker(before), null, "g", null, now).isEmpty());
    }

    @Test
    void theSameTopicNamespacesAndKeysIsNoMove() throws Exception {
        TopicMove.Fed fed = new TopicMove.Fed(TOPIC, List.of("product"), Map.of("product", List.of("product:*")));
        assertTrue(TopicMove.detect(marker(fed), null, "g", null, fed).isEmpty());
    }

    @Test
    void aMarkerWrittenBeforeGlobsWereRecordedComparesNamespacesOnly() throws Exception {
        TopicMove.Fed before = new TopicMove.Fed(TOPIC, List.of("product"), Map.of());
        TopicMove.Fed now = new TopicMove.Fed(TOPIC, List.of("product"), Map.of("product", List.of("product:*")));
        assertTrue(TopicMove.detect(marker(before), null, "g", null, now).isEmpty());
    }

    @Test
    void theSameTopicReadOnAnotherKafkaClusterIsAMoveOfEveryNamespace() throws Exception {
        // a region moved onto a mirrored cluster of its own (or back, or its cluster rebuilt): the topic keeps its name
        TopicMove.Fed before = new TopicMove.Fed(TOPIC, List.of("product", "user"), Map.of(), Map.of(), "cluster-primary");
        TopicMove.Fed now = new TopicMove.Fed(TOPIC, List.of("product", "user"), Map.of(), Map.of(), "cluster-eu-west");
        TopicMove.Moved move = TopicMove.detect(marker(before), null, "g", null, now).orElseThrow();
        assertTrue(move.toAnotherCluster(), "another cluster id: offsets and checkpoint are another log's");
        assertFalse(move.firstFeed());
        assertEquals(List.of("other", "product", "user"), now.invalidatedFor(move, List.of("other", "product", "user")),
                "every namespace fed before or now, as for a move to another topic");
        assertTrue(move.foundBy().contains("cluster-primary -> cluster-eu-west"), move.foundBy());
    }

    @Test
    void theSameClusterIdIsNoMove() throws Exception {
        TopicMove.Fed fed = new TopicMove.Fed(TOPIC, List.of("product"), Map.of("product", List.of("product:*")), Map.of(), "cluster-1");
        assertTrue(TopicMove.detect(marker(fed), null, "g", null, fed).isEmpty());
    }
}
