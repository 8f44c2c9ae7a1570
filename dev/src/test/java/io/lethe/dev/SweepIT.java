package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The region's sweep ({@code apply.sweep}) against a running pipeline: entries written behind
 * Lethe's back, for which no invalidation is ever generated, are found by the region consumer
 * itself, confirmed, healed, counted by class and recorded in the audit stream, without anyone
 * running {@code lethe inspect}; a fresh entry stays. Its heal loads the scripts again into a
 * Redis that lost them.
 */
@ExtendWith(LetheStackExtension.class)
class SweepIT {
    private static final String REGION = "us-east";

    @Test
    void theRunningRegionFindsHealsAndCountsStaleEntriesNobodyInvalidates(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope).sweep("{ keys-per-second: 200, confirm-within: 60s }")) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE items (id int PRIMARY KEY, val text, ver int NOT NULL)",
                    "INSERT INTO items VALUES (1, 'one', 5), (2, 'two', 5)");
            LetheConfig config = f.config(f.yaml(List.of(REGION),
                    "item: { table: public.items, keys: [\"" + p + "item:{id}\"], version: column:ver, fence-ttl: 10m }", ""));
            f.start(config);
            RedisCommands<String, String> redis = f.redis(REGION);
            // behind Lethe's back, once the region's first feed is done (its wholesale invalidation would take them):
            // an entry older than its row, one whose row never existed, and a fresh one; no change follows, so no invalidation
            // and a Redis whose scripts were flushed since the sweep loaded them: its heal loads them again
            assertEquals("OK", redis.scriptFlush());
            redis.hset(p + "item:1", Map.of("v", "3", "d", "old one")); // OLDER_VERSION (the row is at 5)
            redis.hset(p + "item:99", Map.of("v", "4", "d", "ghost")); // ROW_GONE
            redis.hset(p + "item:2", Map.of("v", "5", "d", "two")); // OK

            Await.until("the sweep to heal both stale entries", Duration.ofSeconds(120),
                    () -> keys(f, "healed") == 2 && redis.exists(p + "item:1", p + "item:99") == 0);
            assertEquals(1, keys(f, "older_version"), "counted by class");
            assertEquals(1, keys(f, "row_gone"), "counted by class");
            assertEquals(0, keys(f, "unconfirmed"));
            assertTrue(keys(f, "checked") >= 3, "every key judged: " + keys(f, "checked"));
            assertEquals(1, redis.exists(p + "item:2"), "a fresh entry stays");
            assertEquals("5", redis.hget(p + "item:2", RedisLayout.ENTRY_VERSION));

            List<StreamMessage<String, String>> audit = redis.xrange(RedisLayout.AUDIT_STALE_STREAM, Range.create("-", "+"));
            Map<String, Map<String, String>> byKey = audit.stream().filter(m -> "sweep".equals(m.getBody().get("source")))
                    .collect(Collectors.toMap(m -> m.getBody().get("key"), StreamMessage::getBody, (a, b) -> a));
            Map<String, String> older = byKey.get(p + "item:1");
            assertEquals("item", older.get("namespace"));
            assertEquals("OLDER_VERSION", older.get("finding"));
            assertEquals("3", older.get("served-version"));
            assertEquals("5", older.get("db-version"));
            assertEquals("1", older.get("healed"));
            assertEquals(REGION, older.get("region"));
            assertFalse(older.containsKey("d") || older.containsValue("old one"), "coordinates, never values: " + older);
            assertEquals("not-found", byKey.get(p + "item:99").get("db-version"));

            Await.until("a full pass of the namespace", Duration.ofSeconds(60), () -> !Double.isNaN(passFinished(f)));
            assertTrue(passFinished(f) * 1000 <= System.currentTimeMillis(), "epoch seconds: " + passFinished(f));

            // a second instance of the region: it does not sweep while the first holds the region's lease
            io.micrometer.core.instrument.simple.SimpleMeterRegistry other = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
            try (io.lethe.region.inspect.CacheSweep second = new io.lethe.region.inspect.CacheSweep(config, REGION, other,
                    java.time.Clock.systemUTC())) {
                second.start();
                double before = passFinished(f);
                Await.until("the first instance to finish another pass", Duration.ofSeconds(60), () -> passFinished(f) > before);
                assertEquals(1.0, f.registry.get(RegionMeterNames.SWEEP_ACTIVE).tag("region", REGION).gauge().value());
                assertEquals(0.0, other.get(RegionMeterNames.SWEEP_ACTIVE).tag("region", REGION).gauge().value());
                assertEquals(0.0, other.get(RegionMeterNames.SWEEP_KEYS).tags("namespace", "item", "result", "checked").counter().count(),
                        "the second instance judged no key");
            }
        }
    }

    /**
     * A key column whose type changed while the sweep runs ({@code ALTER COLUMN id TYPE bigint}):
     * the sweep had cast keys to the type it read first, so a key past 2^31 raised a data exception
     * and read as "no row": its fresh entry was confirmed ROW_GONE and healed. It reads the types
     * again and finds the row.
     */
    @Test
    void aKeyColumnWhoseTypeChangedWhileSweepingStillFindsItsRows(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope).sweep("{ keys-per-second: 200, confirm-within: 60s }")) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE items (id int PRIMARY KEY, val text, ver int NOT NULL)", "INSERT INTO items VALUES (1, 'one', 5)");
            LetheConfig config = f.config(f.yaml(List.of(REGION),
                    "item: { table: public.items, keys: [\"" + p + "item:{id}\"], version: column:ver, fence-ttl: 10m }", ""));
            f.start(config);
            RedisCommands<String, String> redis = f.redis(REGION);
            redis.hset(p + "item:1", Map.of("v", "5", "d", "one"));
            // the sweep has read the column types once it judged a key
            Await.until("the sweep to judge item:1", Duration.ofSeconds(60), () -> keys(f, "checked") >= 1);
            f.sql("ALTER TABLE items ALTER COLUMN id TYPE bigint", "INSERT INTO items VALUES (3000000000, 'big', 5)");
            String big = p + "item:3000000000";
            Await.until("the insert's invalidation applied", Duration.ofSeconds(60),
                    () -> redis.exists(RedisLayout.fenceKey(big)) == 1);
            redis.del(RedisLayout.fenceKey(big));
            redis.hset(big, Map.of("v", "5", "d", "big")); // fresh: the row is at 5
            redis.hset(p + "item:99", Map.of("v", "4", "d", "ghost")); // ROW_GONE: the sentinel
            Await.until("the sweep to heal the ghost", Duration.ofSeconds(120), () -> redis.exists(p + "item:99") == 0);
            double after = passFinished(f);
            Await.until("another full pass", Duration.ofSeconds(60), () -> passFinished(f) > after);
            assertEquals(1, keys(f, "row_gone"), "only the ghost");
            assertEquals(1, redis.exists(big), "the fresh entry of a key past 2^31 stays");
        }
    }

    private static double keys(PipelineFixture f, String result) {
        Counter c = f.registry.find(RegionMeterNames.SWEEP_KEYS).tags("region", REGION, "namespace", "item", "result", result).counter();
        return c == null ? 0 : c.count();
    }

    private static double passFinished(PipelineFixture f) {
        Gauge g = f.registry.find(RegionMeterNames.SWEEP_PASS_FINISHED).tags("region", REGION, "namespace", "item").gauge();
        return g == null ? Double.NaN : g.value();
    }
}
