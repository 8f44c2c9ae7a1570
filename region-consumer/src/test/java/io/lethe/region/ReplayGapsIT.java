package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 34, replay: the two gaps docs/security.md once listed under "What does not hold". Whoever
 * can write a region's topic can copy an old upsert back into it; a copy at or below its
 * partition's replay floor is a delete ({@code ReplayedRecordsIT}), and one above it finds the
 * fence of the change after it, while that fence lives. Here neither holds:
 * <ol>
 *     <li>the copy is read before its partition has a floor (a region's first start without a
 *     published watermark, before its first heartbeats), with its key's fence and entry gone;</li>
 *     <li>the copy is read more than fence-ttl after the change that superseded it was applied (no
 *     heartbeat came through meanwhile: the region lags its source by more than fence-ttl), so that
 *     change's fence expired by itself.</li>
 * </ol>
 * Either way the copy must be applied as the delete at its version, never written.
 */
@ExtendWith(LetheStackExtension.class)
class ReplayGapsIT {
    private static final String REGION = "us-east";

    private static LetheConfig config(RegionFixture f, LetheStack stack, TestScope scope, String fenceTtl) {
        // command-timeout 1s (the fixture's) + heartbeat-interval 1s + 1s for the clocks: upserts younger than fence-ttl - 3s are written
        return f.config(f.yaml(Map.of(REGION, "{ redis: " + stack.redisUri(REGION) + " }"), "price: { table: public.prices, keys: [\""
                + scope.keyPrefix() + "price:{id}\"], mode: upsert, payload-columns: [price], fence-ttl: " + fenceTtl + " }", ""));
    }

    private static InvalidationEvent upsert(String key, long lsn, long commitTs, int price) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, UUID.randomUUID().toString(), "price", Scope.ROW, key, null,
                Action.UPSERT, "{\"price\":" + price + "}", Long.toString(lsn), lsn, 7L, commitTs, commitTs, commitTs, null, Op.UPDATE,
                "c" + lsn, null, lsn + 1);
    }

    private static double unproven(SimpleMeterRegistry registry, String reason) {
        return registry.find(RegionMeterNames.UNPROVEN_UPSERTS).tags("region", REGION, "reason", reason).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    @Test
    void aCopyReadBeforeItsPartitionHasAFloorIsADelete(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            LetheConfig config = config(f, stack, scope, "60s");
            String topic = config.topics().invalidations(REGION);
            String key = scope.keyPrefix() + "price:1";
            RedisCommands<String, String> redis = f.redis(REGION);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService region = new RegionConsumerService(config, REGION, registry, Clock.systemUTC())) {
                region.start();
                // the region's first start: no published watermark, no heartbeat yet. The row is at version 200;
                // its fence and entry are gone (evicted); a copy of its upsert at 100, committed a moment ago, comes first
                f.sendUpsert(topic, config, upsert(key, 100, RegionFixture.now() - 1_000_000L, 11));
                f.flush();
                RegionFixture.await("the copy applied", Duration.ofSeconds(60), () -> redis.exists(RedisLayout.fenceKey(key)) == 1);
                assertEquals(0L, redis.exists(key), "a copy read before its partition had a replay floor wrote "
                        + redis.hget(key, RedisLayout.ENTRY_DATA) + ": judged only by an entry and a fence that were gone, a stale entry");
                assertEquals("100", redis.hget(RedisLayout.fenceKey(key), "v"), "applied as the delete at its own version");
                assertTrue(unproven(registry, "no-floor") >= 1, "counted as lethe.region.unproven.upserts{reason=no-floor}");

                // once a heartbeat of every changes partition came through, a new change's upsert is written again (the cost
                // is bounded by one heartbeat interval plus the lag), and the copy read again is below the floor: a delete
                f.sendHeartbeats(topic, 300);
                f.sendUpsert(topic, config, upsert(key, 400, RegionFixture.now(), 14));
                f.flush();
                RegionFixture.await("a change after the heartbeats upserts", Duration.ofSeconds(60),
                        () -> "{\"price\":14}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
            }
        }
    }

    @Test
    void aCopyReadMoreThanFenceTtlAfterTheChangeThatSupersededItIsADelete(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            LetheConfig config = config(f, stack, scope, "6s");
            String topic = config.topics().invalidations(REGION);
            String key = scope.keyPrefix() + "price:1";
            String fence = RedisLayout.fenceKey(key);
            RedisCommands<String, String> redis = f.redis(REGION);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService region = new RegionConsumerService(config, REGION, registry, Clock.systemUTC())) {
                region.start();
                f.sendHeartbeats(topic, 50);
                // the region runs (its group joined, the heartbeats applied and published) before the changes come: an upsert
                // is written only while younger than fence-ttl - 3s
                RegionFixture.awaitHeartbeatsApplied(redis, RegionConsumerService.groupId(config, REGION), 50);
                // the row changed twice: 100 (price 11), then 200 (price 12); the region applies the newer one
                long firstCommit = RegionFixture.now();
                f.sendUpsert(topic, config, upsert(key, 200, firstCommit + 1_000, 12));
                f.flush();
                RegionFixture.await("the newer upsert applied", Duration.ofSeconds(60),
                        () -> "{\"price\":12}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
                // no heartbeat comes through for longer than fence-ttl (6s) (the region lags its source by that much): the fence
                // of 200 expires by itself, and the entry is evicted
                RegionFixture.await("the fence of 200 expired", Duration.ofSeconds(60), () -> redis.exists(fence) == 0);
                redis.del(key);
                // the copy of the upsert at 100, written right behind 200 before any heartbeat: above the floor (50)
                f.sendUpsert(topic, config, upsert(key, 100, firstCommit, 11));
                f.flush();
                RegionFixture.await("the copy applied", Duration.ofSeconds(60), () -> redis.exists(fence) == 1);
                assertEquals(0L, redis.exists(key), "a copy read after the fence of the change that superseded it expired wrote "
                        + redis.hget(key, RedisLayout.ENTRY_DATA) + ": a stale entry");
                assertEquals("100", redis.hget(fence, "v"), "applied as the delete at its own version");
                assertTrue(unproven(registry, "aged") >= 1, "counted as lethe.region.unproven.upserts{reason=aged}");
            }
        }
    }
}
