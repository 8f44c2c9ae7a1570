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
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.region.apply.TopicMove;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Entries a region's Redis held before capture's replication slot first existed: readers filled
 * them before Lethe ever ran (or the region was added on a Redis that already held entries), and
 * their rows changed before the slot could see it, so no invalidation of that change exists
 * anywhere. The region's first feed (its Redis records no topic) invalidates every namespace it
 * receives wholesale at the first watermark it applies; a later start does not.
 */
@ExtendWith(LetheStackExtension.class)
class FirstFeedIT {
    private static final String REGION = "us-east";

    @Test
    void anEntryFilledBeforeLethesFirstStartWhoseRowChangedBeforeTheSlotExistedIsInvalidated(LetheStack stack, TestScope scope)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10), (2, 20), (3, 30)");
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(List.of(REGION), """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p), ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            // a reader filled row 1 before Lethe ever ran; the row changed before capture's slot existed
            String before = p + "product:1";
            redis.hset(before, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":10}"));
            f.sql("UPDATE products SET price = 11 WHERE id = 1");
            String group = scope.id() + "-region-" + REGION;
            try (Pipeline first = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC())) {
                Await.until("the entry filled before the slot existed is gone", Duration.ofSeconds(120),
                        () -> redis.exists(before) == 0);
                Await.until("the region records the topic it is fed from", Duration.ofSeconds(30),
                        () -> redis.exists(TopicMove.markerKey(group)) == 1);
                assertEquals(1.0, f.registry.counter(RegionMeterNames.FIRST_FEEDS, "region", REGION).count(), "counted before the marker");
            }
            // filled after the first feed: a later start trusts the Redis its marker vouches for
            String after = p + "product:2";
            redis.hset(after, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":20}"));
            String sentinel = p + "product:3";
            redis.hset(sentinel, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":30}"));
            try (Pipeline again = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC())) {
                f.sql("UPDATE products SET price = 31 WHERE id = 3");
                Await.until("the restarted region applies a change", Duration.ofSeconds(90), () -> redis.exists(sentinel) == 0);
                assertEquals(1, redis.exists(after), "a start with the marker present invalidates nothing wholesale");
                assertEquals(1.0, f.registry.counter(RegionMeterNames.FIRST_FEEDS, "region", REGION).count(), "no second first feed");
            }
        }
    }
}
