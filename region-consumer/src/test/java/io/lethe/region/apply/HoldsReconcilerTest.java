package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.region.redis.NamespaceMarks;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.stage.health.Misconfiguration;
import io.lettuce.core.cluster.SlotHash;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The decision of {@link HoldsReconciler}: a holds record absent or other than this instance's view, with the marker
 * matching it, is rewritten and its namespace invalidated wholesale; a record another instance's move wrote (its intent
 * beside it) is left alone until that intent is gone; Redis failing or the region closing never loses the invalidation.
 */
class HoldsReconcilerTest {
    private static final String YAML = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9" }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              price: { table: public.prices, keys: ["price:{id}"], mode: upsert, payload-columns: [price]%s }
            """;
    private static final LetheConfig BY_LSN = ConfigLoader.parse("old.yml", YAML.formatted(""), name -> null);
    private static final LetheConfig BY_COLUMN = ConfigLoader.parse("new.yml", YAML.formatted(", version: column:ver"), name -> null);
    private static final TopicMove.Fed OWN = ConfiguredFeed.of(BY_LSN, BY_LSN.region("us-east"), "cluster");
    private static final TopicMove.Fed NEXT = ConfiguredFeed.of(BY_COLUMN, BY_COLUMN.region("us-east"), "cluster");
    private static final String MINE = RedisLayout.holds(BY_LSN.namespaces().get("price").readerHolds());
    private static final String THEIRS = RedisLayout.holds(BY_COLUMN.namespaces().get("price").readerHolds());
    private static final long REWRITE_TTL = TimeUnit.SECONDS.toMillis(NamespaceMarks.REWRITE_INTENT_SECONDS);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final FakeRedis redis = new FakeRedis();
    private TopicMove.Fed marker = OWN;
    private final List<List<String>> invalidated = new ArrayList<>();
    private boolean closing;
    private final TopicMove.Marker markers = new TopicMove.Marker() {
        @Override
        public Optional<TopicMove.Fed> read() {
            return Optional.ofNullable(marker);
        }

        @Override
        public void write(TopicMove.Fed fed) {
            marker = fed;
        }
    };
    private final HoldsReconciler reconciler = new HoldsReconciler("us-east", markers, redis, BY_LSN.namespaces().keySet(),
            new RegionMetrics(registry, "us-east"),
            new WholesaleEvents(BY_LSN, BY_LSN.region("us-east"), Clock.systemUTC()), Clock.systemUTC(), 0);

    private boolean reconcile(TopicMove.Fed own) throws InterruptedException {
        return reconciler.reconcile(own, this::apply);
    }

    private Applied apply(BatchPlan plan) {
        if (closing) {
            return null;
        }
        invalidated.add(plan.all().stream().map(InvalidationEvent::namespace).distinct().toList());
        return new Applied(Map.of(), List.of());
    }

    @Test
    void theMarkerCheckReconcilesOnceTheViewIsWrittenWhateverRefusalsCompared() throws Exception {
        MarkerView view = new MarkerView("us-east", markers, new MockConsumer<>("none"),
                new Misconfiguration(new SimpleMeterRegistry(), "region:us-east"), new RegionMetrics(registry, "us-east"), reconciler);
        view.loop(wait -> false, () -> {
        }, this::apply);
        assertNotNull(view.checkedAfter(Set.of(), ConsumerRecords.empty()));
        assertNull(redis.record, "no view decided yet: a start-up records the holds itself");
        view.decided(OWN, Optional.of(OWN));
        assertNotNull(view.checkedAfter(Set.of(), ConsumerRecords.empty()));
        assertNull(redis.record, "its marker not written yet");
        view.written();
        // a refused record compares the view with the marker now, which resets the marker check's period, not this one's
        view.onRefusal(new EventRules.Refusal(DlqReason.UNKNOWN_NAMESPACE, "a namespace of another file"));
        assertNotNull(view.checkedAfter(Set.of(), ConsumerRecords.empty()));
        assertEquals(MINE, redis.record);
        assertEquals(List.of(List.of("price")), invalidated);
        redis.record = null;
        assertNotNull(view.checkedAfter(Set.of(new TopicPartition("t", 0)), ConsumerRecords.empty()));
        assertNull(redis.record, "after a restore check that rewound: the restored marker is the restore's to handle first");
        assertEquals(1, invalidated.size());
    }

    private double rewritten(String reason) {
        return registry.get(RegionMeterNames.HOLDS_REWRITTEN).tag("reason", reason).counter().count();
    }

    @Test
    void decidesByTheRecordAndTheIntentBesideIt() {
        assertEquals(Optional.empty(), HoldsReconciler.decide(MINE, true, new NamespaceMarks.Holds(MINE, null, -2)));
        assertEquals(Optional.of("absent"), HoldsReconciler.decide(MINE, true, new NamespaceMarks.Holds(null, null, -2)));
        assertEquals(Optional.of("other"), HoldsReconciler.decide(MINE, true, new NamespaceMarks.Holds(THEIRS, null, -2)));
        assertEquals(Optional.of("other"), HoldsReconciler.decide(MINE, true,
                new NamespaceMarks.Holds(RedisLayout.NOT_RECEIVED, null, -2)));
        // a namespace not received: not-received is due where something else is recorded; none is not known to be this region's
        assertEquals(Optional.empty(), HoldsReconciler.decide(RedisLayout.NOT_RECEIVED, false, new NamespaceMarks.Holds(null, null, -2)));
        assertEquals(Optional.of("other"), HoldsReconciler.decide(RedisLayout.NOT_RECEIVED, false,
                new NamespaceMarks.Holds(MINE, null, -2)));
        // another configuration's move in progress: its record stands, absent or not
        assertEquals(Optional.empty(), HoldsReconciler.decide(MINE, true, new NamespaceMarks.Holds(THEIRS, THEIRS, 500_000)));
        assertEquals(Optional.empty(), HoldsReconciler.decide(MINE, true, new NamespaceMarks.Holds(null, THEIRS, 500_000)));
        // a move to this view's holds is done once the marker matches: its intent stops nothing
        assertEquals(Optional.of("absent"), HoldsReconciler.decide(MINE, true, new NamespaceMarks.Holds(null, MINE, 500_000)));
        // another view's rewrite is no move
        assertEquals(Optional.of("other"), HoldsReconciler.decide(MINE, true,
                new NamespaceMarks.Holds(THEIRS, RedisLayout.REWRITTEN + THEIRS, REWRITE_TTL - 10)));
        // this view's rewrite: its instance is at it for a minute, then it is taken as not invalidated
        NamespaceMarks.Holds young = new NamespaceMarks.Holds(MINE, RedisLayout.REWRITTEN + MINE, REWRITE_TTL - 1_000);
        assertEquals(Optional.empty(), HoldsReconciler.decide(MINE, true, young));
        NamespaceMarks.Holds old = new NamespaceMarks.Holds(MINE, RedisLayout.REWRITTEN + MINE,
                REWRITE_TTL - HoldsReconciler.GRACE_MILLIS - 1);
        assertEquals(Optional.of("unfinished"), HoldsReconciler.decide(MINE, true, old));
    }

    @Test
    void theIntentIsInTheRecordsClusterSlot() {
        for (String ns : List.of("price", "product", "a.b-c_d")) {
            assertEquals(SlotHash.getSlot(RedisLayout.holdsKey(ns)), SlotHash.getSlot(RedisLayout.holdsIntentKey(ns)),
                    "the rewrite's compare-and-set reads and writes both in one script");
        }
    }

    @Test
    void anAbsentRecordIsRewrittenThenItsNamespaceInvalidated() throws Exception {
        assertTrue(reconcile(OWN));
        assertEquals(MINE, redis.record, "the record written");
        assertEquals(List.of(List.of("price")), invalidated, "then the namespace invalidated wholesale");
        assertEquals(1.0, rewritten("absent"));
        assertNull(redis.intent, "its intent deleted once the invalidation was acknowledged");

        assertTrue(reconcile(OWN));
        assertEquals(1, invalidated.size(), "right now: nothing more");
    }

    @Test
    void anotherFilesRecordIsRewrittenToThisViews() throws Exception {
        redis.record = THEIRS;
        assertTrue(reconcile(OWN));
        assertEquals(MINE, redis.record);
        assertEquals(List.of(List.of("price")), invalidated);
        assertEquals(1.0, rewritten("other"));
    }

    @Test
    void anotherInstancesMoveInProgressIsNotUndone() throws Exception {
        redis.record = MINE;
        // the mover records the new holds with its intent, in one script, before its wholesale invalidation; marker still old
        redis.recordHolds(THEIRS);
        assertTrue(reconcile(OWN));
        assertEquals(THEIRS, redis.record, "the mover's record stands while its intent is there");
        assertTrue(invalidated.isEmpty());
        // its marker written: this instance's view differs now and it holds (MarkerView), never reconciling
        marker = NEXT;
        assertTrue(reconcile(null));
        assertEquals(THEIRS, redis.record);
        // the mover's own reconciliation: its intent equals its view, the record is right
        HoldsReconciler.decide(THEIRS, true, redis.read("price")).ifPresent(r -> {
            throw new AssertionError("the mover's record is right: " + r);
        });
    }

    @Test
    void aMoverStoppedHalfWayLeavesAnIntentThatExpires() throws Exception {
        redis.recordHolds(THEIRS);
        assertTrue(reconcile(OWN));
        assertEquals(THEIRS, redis.record);
        redis.intent = null; // the TTL passed: the mover never wrote its marker, which still records this view
        assertTrue(reconcile(OWN));
        assertEquals(MINE, redis.record);
        assertEquals(List.of(List.of("price")), invalidated);
    }

    @Test
    void aMoverWhoseIntentWentWithItsMarkerWrittenIsNotUndone() throws Exception {
        redis.record = THEIRS; // its intent deleted after its marker write, which this instance's check had not seen yet
        marker = NEXT; // the re-read after the records sees it
        assertTrue(reconcile(OWN));
        assertEquals(THEIRS, redis.record);
        assertTrue(invalidated.isEmpty());
    }

    @Test
    void aMoveStartingBetweenTheReadAndTheRewriteWins() throws Exception {
        redis.onRewrite = () -> redis.recordHolds(THEIRS);
        assertTrue(reconcile(OWN));
        assertEquals(THEIRS, redis.record, "the rewrite's script finds the mover's intent and writes nothing");
        assertTrue(invalidated.isEmpty());
    }

    @Test
    void redisFailingOrTheRegionClosingNeverSkipsTheInvalidation() throws Exception {
        redis.down = true;
        assertTrue(reconcile(OWN), "nothing read: tried again at the next check");
        assertTrue(invalidated.isEmpty());
        redis.down = false;
        closing = true;
        assertFalse(reconcile(OWN), "closing before the invalidation was acknowledged");
        assertEquals(MINE, redis.record);
        assertEquals(RedisLayout.REWRITTEN + MINE, redis.intent, "its intent stays for the next start");
        closing = false;
        assertTrue(reconcile(OWN));
        assertEquals(List.of(List.of("price")), invalidated, "invalidated at the next check though the record is right by then");
        assertEquals(1.0, rewritten("absent"));
        assertNull(redis.intent);
    }

    @Test
    void anotherInstanceFinishesARewriteWhoseInstanceStopped() throws Exception {
        redis.record = MINE;
        redis.intent = RedisLayout.REWRITTEN + MINE;
        redis.intentMillisLeft = REWRITE_TTL - 1_000;
        assertTrue(reconcile(OWN));
        assertTrue(invalidated.isEmpty(), "its instance may be at it");
        redis.intentMillisLeft = REWRITE_TTL - HoldsReconciler.GRACE_MILLIS - 1;
        assertTrue(reconcile(OWN));
        assertEquals(List.of(List.of("price")), invalidated);
        assertEquals(1.0, rewritten("unfinished"));
        assertNull(redis.intent);
    }

    @Test
    void nothingWhileTheViewIsNotDecidedOrTheMarkerDiffers() throws Exception {
        assertTrue(reconcile(null));
        marker = null;
        assertTrue(reconcile(OWN));
        marker = NEXT;
        assertTrue(reconcile(OWN));
        assertNull(redis.record);
        assertTrue(invalidated.isEmpty());
    }

    /** One namespace's record and intent, with the scripts' compare-and-set as {@link NamespaceMarks} runs them. */
    private static final class FakeRedis implements HoldsReconciler.Records {
        String record;
        String intent;
        long intentMillisLeft = -2;
        boolean down;
        Runnable onRewrite = () -> {
        };
        private final Map<String, Integer> reads = new HashMap<>();

        void recordHolds(String holds) {
            intent = holds;
            intentMillisLeft = TimeUnit.SECONDS.toMillis(NamespaceMarks.MOVE_INTENT_SECONDS);
            record = holds;
        }

        @Override
        public NamespaceMarks.Holds read(String namespace) {
            if (down) {
                throw new IllegalStateException("Redis down");
            }
            reads.merge(namespace, 1, Integer::sum);
            return new NamespaceMarks.Holds(record, intent, intent == null ? -2 : intentMillisLeft);
        }

        @Override
        public boolean rewrite(String namespace, String expected, String value) {
            onRewrite.run();
            if (intent != null && !intent.equals(value) && !intent.startsWith(RedisLayout.REWRITTEN)) {
                return false;
            }
            if (!java.util.Objects.equals(record, expected)) {
                return false;
            }
            intent = RedisLayout.REWRITTEN + value;
            intentMillisLeft = REWRITE_TTL;
            record = value;
            return true;
        }

        @Override
        public void finished(String namespace, String value) {
            if (value.equals(intent)) {
                intent = null;
            }
        }
    }
}
