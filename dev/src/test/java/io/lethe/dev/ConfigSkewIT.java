package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.region.apply.TopicMove;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Stages running different configurations during a rollout. A namespace added to lethe.yml over a
 * table capture does not capture yet (capture still on the old file, or not restarted at all):
 * streams and the regions run the new file, readers fill the new namespace's keys, its rows change,
 * and nothing publishes the changes. The region's watermarks must not claim those changes are
 * applied: a watermark is forwarded only from a capture that captures the tables streams'
 * configuration expects of it.
 */
@ExtendWith(LetheStackExtension.class)
class ConfigSkewIT {
    private static final String REGION = "us-east";

    @Test
    void noWatermarkClaimsChangesOfATableCaptureDoesNotCaptureYet(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10)",
                    "CREATE TABLE others (id int PRIMARY KEY, v int)", "INSERT INTO others VALUES (1, 1)");
            String p = scope.keyPrefix();
            String group = scope.id() + "-region-" + REGION;
            String product = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p);
            String other = """
                    other:
                      table: public.others
                      keys: ["%sother:{id}"]
                    """.formatted(p);
            LetheConfig before = f.config(f.yaml(List.of(REGION), product, ""));
            LetheConfig after = f.config(f.yaml(List.of(REGION), product + other, ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            try (Pipeline all = Pipeline.start(before, Roles.all(before), f.registry, Clock.systemUTC())) {
                Await.until("us-east records what it is fed", Duration.ofSeconds(90), () -> redis.exists(TopicMove.markerKey(group)) == 1);
            }
            String entry = p + "other:1";
            // capture still runs the old file; streams and the region run the new one, and a reader on it fills other:1
            try (Pipeline capture = Pipeline.start(before, new Roles(true, false, List.of()), f.registry, Clock.systemUTC());
                    Pipeline rest = Pipeline.start(after, new Roles(false, true, List.of(REGION)), f.registry, Clock.systemUTC())) {
                // the region gained the namespace: once streams proves it runs the new file, it invalidates the namespace
                // wholesale (a move); the reader fills after that, or, with the fix, before it (no proof comes)
                Await.until("us-east's move done, or streams holds capture's watermarks", Duration.ofSeconds(120),
                        () -> held(f) > 0 || f.registry.counter(RegionMeterNames.TOPIC_MOVES, "region", REGION).count() == 1.0);
                redis.hset(entry, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"v\":1}"));
                f.sql("UPDATE others SET v = 2 WHERE id = 1");
                long changed = f.currentLsn();
                Await.until("streams holds the watermarks of a capture without public.others, or us-east applies past the change",
                        Duration.ofSeconds(120), () -> held(f) > 0 || f.appliedLsn(REGION, group) >= changed);
                assertFalse(f.appliedLsn(REGION, group) >= changed && redis.exists(entry) == 1,
                        "us-east's applied watermark claims the change of others row 1 while its entry is stale: capture runs a "
                                + "configuration without public.others and published nothing of it");
                assertTrue(held(f) > 0, "counted");
            }
            // capture on the new file: it captures public.others from now on, watermarks flow again, and the region's
            // wholesale invalidation of the namespace it gained clears what readers filled before
            try (Pipeline all = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC())) {
                f.sql("UPDATE products SET price = 11 WHERE id = 1");
                long now = f.currentLsn();
                Await.until("us-east applies past a change made under the new configuration", Duration.ofSeconds(120),
                        () -> f.appliedLsn(REGION, group) >= now);
                assertEquals(0, redis.exists(entry), "the entry filled while capture did not capture its table is gone");
            }
        }
    }

    private static double held(PipelineFixture f) {
        return f.registry.find("lethe.streams.watermarks.held").counters().stream().mapToDouble(Counter::count).sum();
    }

}
