package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The thin pipeline end to end: PostgreSQL -> capture -> streams -> two regions' Redis. */
@ExtendWith(LetheStackExtension.class)
class PipelineIT {
    private static final List<String> REGIONS = List.of("us-east", "eu-west");
    /** Above any LSN this test can reach: an entry filled after the change. */
    private static final String NEWER = "999999999999999";

    @Test
    void anUpdateDeletesOlderAndLegacyEntriesAndKeepsNewerOnesInEveryRegion(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10)");
            String p = scope.keyPrefix();
            f.start(f.config(f.yaml(REGIONS, """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}", "%sproduct:{id}:price", "%sproduct:{id}:legacy"]
                    """.formatted(p, p, p), "")));
            String older = p + "product:1";
            String newer = p + "product:1:price";
            String legacy = p + "product:1:legacy";
            for (String region : REGIONS) {
                RedisCommands<String, String> r = f.redis(region);
                r.hset(older, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":10}"));
                r.hset(newer, Map.of(RedisLayout.ENTRY_VERSION, NEWER, RedisLayout.ENTRY_DATA, "{\"price\":99}"));
                r.set(legacy, "price=10");
            }

            f.sql("UPDATE products SET price = 11 WHERE id = 1");

            for (String region : REGIONS) {
                RedisCommands<String, String> r = f.redis(region);
                // The sentinel: the fences of all three keys, written by the invalidations themselves.
                Await.until("fences in " + region, Duration.ofSeconds(60),
                        () -> List.of(older, newer, legacy).stream().allMatch(k -> r.exists(RedisLayout.fenceKey(k)) == 1));
                assertEquals(0, r.exists(older), region + ": the older versioned entry is deleted");
                assertEquals(0, r.exists(legacy), region + ": the legacy entry is deleted");
                assertEquals(NEWER, r.hget(newer, RedisLayout.ENTRY_VERSION), region + ": the newer entry is kept");
                Map<String, String> fence = r.hgetall(RedisLayout.fenceKey(older));
                long lsn = Long.parseLong(fence.get(RedisLayout.FENCE_VERSION));
                assertTrue(lsn > 1, region + ": the fence records the change's LSN, was " + lsn);
                assertFalse(fence.get(RedisLayout.FENCE_COUNTER).isEmpty());
                long ttl = r.pttl(RedisLayout.fenceKey(older));
                assertTrue(ttl > 0 && ttl <= 60_000, region + ": the fence expires after fence-ttl, pttl " + ttl);
            }
        }
    }
}
