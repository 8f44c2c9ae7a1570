package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.DlqReason;
import io.lethe.stage.health.Misconfiguration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.junit.jupiter.api.Test;

class MarkerViewTest {
    private static final TopicMove.Fed BY_LSN = fed(List.of("table=public.products", "version=lsn"));
    private static final TopicMove.Fed BY_COLUMN = fed(List.of("table=public.products", "version=column:ver"));

    private TopicMove.Fed recorded;
    private RuntimeException redisDown;
    private final MarkerView view = new MarkerView("us-east", new TopicMove.Marker() {
        @Override
        public Optional<TopicMove.Fed> read() {
            if (redisDown != null) {
                throw redisDown;
            }
            return Optional.ofNullable(recorded);
        }

        @Override
        public void write(TopicMove.Fed fed) {
            if (redisDown != null) {
                throw redisDown;
            }
            recorded = fed;
        }
    }, new MockConsumer<>("none"), new Misconfiguration(new SimpleMeterRegistry(), "region:us-east"),
            new RegionMetrics(new SimpleMeterRegistry(), "us-east"), null);

    private static TopicMove.Fed fed(List<String> holds) {
        return new TopicMove.Fed("lethe.invalidations", List.of("product"), Map.of("product", List.of("product:*")),
                Map.of("product", List.of("product:{id}")), "cluster", Map.of("product", holds));
    }

    @Test
    void noViewOrNoMarkerIsNoSkew() {
        recorded = BY_COLUMN;
        assertTrue(view.differs().isEmpty(), "before this instance wrote or found its marker");
        view.own(BY_LSN);
        recorded = null;
        assertTrue(view.differs().isEmpty());
    }

    @Test
    void aMarkerOfAnotherConfigurationOfANamespaceIsASkew() {
        view.own(BY_LSN);
        recorded = BY_LSN;
        assertTrue(view.differs().isEmpty());
        recorded = BY_COLUMN;
        assertTrue(view.differs().orElseThrow().contains("[product]"));
        assertTrue(view.onRefusal(new EventRules.Refusal(DlqReason.VERSION_OUT_OF_RANGE, "version 2")).isPresent());
        assertFalse(view.onRefusal(new EventRules.Refusal(DlqReason.RESERVED_KEY, "lethe:x")).isPresent(),
                "a refusal no configuration explains is dead-lettered as before");
        recorded = new TopicMove.Fed("lethe.invalidations.us-east", List.of("product"));
        assertTrue(view.differs().orElseThrow().contains("topic"));
    }

    @Test
    void aRestoredMarkerOfAnotherConfigurationNamesTheNamespacesToInvalidate() {
        recorded = BY_LSN;
        assertTrue(view.restored().isEmpty(), "a start-up still deciding handles it");
        view.own(BY_COLUMN);
        assertEquals(List.of("product"), view.restored().orElseThrow().namespaces());
        assertEquals(Map.of("product", List.of("product:*")), view.restored().orElseThrow().formerGlobs());
        recorded = BY_COLUMN;
        assertTrue(view.restored().isEmpty());
        recorded = null;
        assertEquals(List.of("product"), view.restored().orElseThrow().namespaces(), "older than the marker this run wrote");
    }

    /**
     * From the review: an instance whose marker write failed at start-up still compares (its view is set when
     * it decides), completes its own write while the marker still records what it decided on, and holds once
     * another instance wrote another configuration since.
     */
    @Test
    void anInstanceWhoseMarkerWriteFailedCompletesItOrHolds() {
        recorded = BY_LSN;
        view.decided(BY_COLUMN, Optional.of(BY_LSN)); // a move from BY_LSN done, its write failed
        assertTrue(view.differs().isEmpty(), "the marker still records what it moved from: its own write is completed");
        assertEquals(BY_COLUMN, recorded);
        view.decided(BY_LSN, Optional.of(BY_LSN)); // no move, write failed; then another instance moved to BY_COLUMN
        assertTrue(view.differs().orElseThrow().contains("[product]"), "another instance's marker since: held");
        assertEquals(BY_COLUMN, recorded, "never written over");
    }

    @Test
    void aRefusalWhoseMarkerCannotBeReadIsHeld() {
        view.own(BY_LSN);
        recorded = BY_LSN;
        redisDown = new IllegalStateException("timed out");
        assertTrue(view.onRefusal(new EventRules.Refusal(DlqReason.VERSION_OUT_OF_RANGE, "version 2")).orElseThrow()
                .contains("cannot be read"), "not known: held, never dead-lettered and committed past");
        redisDown = null;
    }
}
