package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.region.apply.TopicMove;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A region's holds record lost or made wrong while the region runs, without a move: deleted (evicted, an operator, a
 * failover that lost it), then set to another file's holds (a move stopped half-way and rolled back). While none is
 * recorded a reader on any file fills; an entry filled then is one no invalidation of the region reaches. The running
 * region's periodic marker check rewrites the record and invalidates the namespace wholesale: the record is back within
 * the check period and the entry filled meanwhile is gone.
 */
@ExtendWith(LetheStackExtension.class)
class HoldsReconcileIT {
    private static final String REGION = "us-east";
    /** Not {@code product}: {@code lethe:holds:<ns>} is not under a test's key prefix. */
    private static final String NAMESPACE = "reconciled";

    @Test
    void aLostOrWrongHoldsRecordIsRewrittenAndWhatReadersFilledMeanwhileInvalidated(LetheStack stack, TestScope scope)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10), (2, 20)");
            String p = scope.keyPrefix();
            String yaml = NAMESPACE + ":\n  table: public.products\n  keys: [\"" + p + "product:{id}\"]\n";
            LetheConfig config = f.config(f.yaml(List.of(REGION), yaml, ""));
            LetheConfig other = f.config(f.yaml(List.of(REGION), yaml + "  version: \"column:price\"\n", ""));
            String mine = RedisLayout.holds(config.namespaces().get(NAMESPACE).readerHolds());
            String theirs = RedisLayout.holds(other.namespaces().get(NAMESPACE).readerHolds());
            String holdsKey = RedisLayout.holdsKey(NAMESPACE);
            RedisCommands<String, String> redis = f.redis(REGION);
            String group = scope.id() + "-region-" + REGION;
            try (Pipeline pipeline = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC())) {
                Await.until("the first feed's marker and holds recorded", Duration.ofSeconds(120),
                        () -> redis.exists(TopicMove.markerKey(group)) == 1 && mine.equals(redis.get(holdsKey)));

                // lost: while none is recorded, a reader on another file fills
                redis.del(holdsKey);
                String filled = p + "product:1";
                redis.hset(filled, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":10}"));
                Await.until("the record rewritten and the namespace invalidated", Duration.ofSeconds(30),
                        () -> rewritten(f, "absent") >= 1);
                assertEquals(mine, redis.get(holdsKey), "the record is this configuration's again");
                assertEquals(0, redis.exists(filled), "what a reader filled while none was recorded is gone");

                // wrong, with no move in progress: declared readers refuse every fill, the region undoes every upsert
                redis.set(holdsKey, theirs);
                String filledByThem = p + "product:2";
                redis.hset(filledByThem, Map.of(RedisLayout.ENTRY_VERSION, "99", RedisLayout.ENTRY_DATA, "{\"price\":20}"));
                Await.until("the record rewritten again", Duration.ofSeconds(30), () -> rewritten(f, "other") >= 1);
                assertEquals(mine, redis.get(holdsKey));
                assertEquals(0, redis.exists(filledByThem), "what a reader on the other file filled is gone");
                assertEquals(1.0, rewritten(f, "absent"), "once a change");
            } finally {
                redis.del(holdsKey);
            }
        }
    }

    /**
     * Another instance's move in progress (its record and, in the same script, its intent written; its marker not yet):
     * the marker still records this instance's view, and the record differs, but it is left to the mover. Sentinel: a
     * second namespace's record deleted after the intent was written is rewritten twice (the second time by a check that
     * began after the intent was written and read both). Once the
     * intent is gone (a mover that stopped: its TTL passed), the record is reconciled to the marker.
     */
    @Test
    void aRecordUnderAnotherInstancesMoveIsLeftToItUntilItsIntentIsGone(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10)");
            String p = scope.keyPrefix();
            String sentinelNs = NAMESPACE + "-sentinel";
            String yaml = NAMESPACE + ":\n  table: public.products\n  keys: [\"" + p + "product:{id}\"]\n" + sentinelNs
                    + ":\n  table: public.products\n  keys: [\"" + p + "item:{id}\"]\n";
            LetheConfig config = f.config(f.yaml(List.of(REGION), yaml, ""));
            LetheConfig next = f.config(f.yaml(List.of(REGION), yaml.replace("keys: [\"" + p + "product:{id}\"]",
                    "keys: [\"" + p + "product:{id}\"]\n  version: \"column:price\""), ""));
            String mine = RedisLayout.holds(config.namespaces().get(NAMESPACE).readerHolds());
            String theirs = RedisLayout.holds(next.namespaces().get(NAMESPACE).readerHolds());
            String sentinelHolds = RedisLayout.holds(config.namespaces().get(sentinelNs).readerHolds());
            String holdsKey = RedisLayout.holdsKey(NAMESPACE);
            RedisCommands<String, String> redis = f.redis(REGION);
            String group = scope.id() + "-region-" + REGION;
            try (Pipeline pipeline = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC())) {
                Await.until("the first feed's marker and holds recorded", Duration.ofSeconds(120),
                        () -> redis.exists(TopicMove.markerKey(group)) == 1 && mine.equals(redis.get(holdsKey))
                                && sentinelHolds.equals(redis.get(RedisLayout.holdsKey(sentinelNs))));

                // the mover's recordHolds: intent and record; its wholesale scan runs now, its marker comes after
                redis.set(RedisLayout.holdsIntentKey(NAMESPACE), theirs, SetArgs.Builder.ex(600));
                redis.set(holdsKey, theirs);
                String filledByThem = p + "product:1";
                redis.hset(filledByThem, Map.of(RedisLayout.ENTRY_VERSION, "10", RedisLayout.ENTRY_DATA, "{\"price\":10}"));
                redis.del(RedisLayout.holdsKey(sentinelNs));
                Await.until("the sentinel namespace's record rewritten", Duration.ofSeconds(30), () -> rewritten(f, "absent") >= 1);
                // again: that check began after the intent was written, so it read the record under the move
                redis.del(RedisLayout.holdsKey(sentinelNs));
                Await.until("the sentinel namespace's record rewritten again", Duration.ofSeconds(30),
                        () -> rewritten(f, "absent") >= 2);
                assertEquals(theirs, redis.get(holdsKey), "the mover's record stands while its intent is there");
                assertEquals(1, redis.exists(filledByThem), "its namespace not invalidated by this instance");
                assertEquals(0.0, rewritten(f, "other"));

                // the mover stopped half-way: its intent expires, the marker still records this instance's file
                redis.del(RedisLayout.holdsIntentKey(NAMESPACE));
                Await.until("the record reconciled to the marker", Duration.ofSeconds(30), () -> rewritten(f, "other") >= 1);
                assertEquals(mine, redis.get(holdsKey));
                assertEquals(0, redis.exists(filledByThem), "what a reader on the mover's file filled is gone");
            } finally {
                redis.del(holdsKey, RedisLayout.holdsKey(sentinelNs), RedisLayout.holdsIntentKey(NAMESPACE));
            }
        }
    }

    /**
     * The record lost while the region was down (its instances stopped, a reader on another file filled meanwhile): the
     * next start finds its marker matching and does not fill the record in silently; its check records it and invalidates
     * the namespace (failed first, the marker write recording an absent record itself: timed out waiting for the record
     * rewritten after the restart).
     */
    @Test
    void aRecordLostWhileTheRegionWasDownIsRewrittenWithAnInvalidation(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10)");
            String p = scope.keyPrefix();
            String namespace = NAMESPACE + "-down";
            LetheConfig config = f.config(f.yaml(List.of(REGION), namespace + ":\n  table: public.products\n  keys: [\"" + p
                    + "product:{id}\"]\n", ""));
            String mine = RedisLayout.holds(config.namespaces().get(namespace).readerHolds());
            String holdsKey = RedisLayout.holdsKey(namespace);
            RedisCommands<String, String> redis = f.redis(REGION);
            String group = scope.id() + "-region-" + REGION;
            try {
                try (Pipeline pipeline = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC())) {
                    Await.until("the first feed's marker and holds recorded", Duration.ofSeconds(120),
                            () -> redis.exists(TopicMove.markerKey(group)) == 1 && mine.equals(redis.get(holdsKey)));
                }
                redis.del(holdsKey);
                String filled = p + "product:1";
                redis.hset(filled, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":10}"));
                double before = rewritten(f, "absent");
                try (Pipeline pipeline = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC())) {
                    Await.until("the record rewritten after the restart", Duration.ofSeconds(60),
                            () -> rewritten(f, "absent") > before);
                    assertEquals(mine, redis.get(holdsKey));
                    assertEquals(0, redis.exists(filled), "what a reader filled while the region was down is gone");
                }
            } finally {
                redis.del(holdsKey);
            }
        }
    }

    /** {@code lethe.region.holds.rewritten} ({@code RegionMeterNames.HOLDS_REWRITTEN}), counted once the invalidation is acknowledged. */
    private static double rewritten(PipelineFixture f, String reason) {
        Counter counter = f.registry.find("lethe.region.holds.rewritten").tag("region", REGION).tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }
}
