package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.Action;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.serde.EventJson;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The readers' protocol for a region's own upserts: an instance still on the old file applies an upsert a
 * streams still on the old file stamped (both stamps match), after another instance of the group, starting on
 * a file that makes the namespace {@code column:}-versioned, recorded the new holds and ran its wholesale
 * invalidation past the key (its marker not written yet). Nothing later reaches an entry at an LSN there: the
 * instance reads the holds again once the upsert is acknowledged and undoes it (the delete at its version), without
 * holding: its deletes go on. With no record (a Redis an older version fed), nothing is undone.
 */
@ExtendWith(LetheStackExtension.class)
class UpsertHoldsIT {
    private static final String REGION = "us-east";
    /** Not {@code hot} as other ITs name theirs: {@code lethe:holds:<ns>} is not under a test's key prefix. */
    private static final String NAMESPACE = "undone";

    @Test
    void anUpsertAppliedAfterAnotherInstanceRecordedNewHoldsIsUndone(LetheStack stack, TestScope scope)
            throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            String regions = "{ redis: \"" + stack.redisUri(REGION) + "\" }";
            String product = "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }\n";
            String hot = NAMESPACE + ": { table: public.hot, keys: [\"" + p + "hot:{id}\"], mode: upsert, payload-columns: [name]%s }";
            LetheConfig old = f.config(f.yaml(Map.of(REGION, regions), product + hot.formatted(""), ""));
            LetheConfig next = f.config(f.yaml(Map.of(REGION, regions), product + hot.formatted(", version: \"column:ver\""), ""));
            String oldHolds = RedisLayout.holds(old.namespaces().get(NAMESPACE).readerHolds());
            String newHolds = RedisLayout.holds(next.namespaces().get(NAMESPACE).readerHolds());
            RedisCommands<String, String> redis = f.redis(REGION);
            String topic = old.topics().invalidations(REGION);
            String group = RegionConsumerService.groupId(old, REGION);
            String entry = p + "hot:1";
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService region = new RegionConsumerService(old, REGION, registry, Clock.systemUTC())) {
                region.start();
                f.sendHeartbeats(topic, 1);
                RegionFixture.awaitHeartbeatsApplied(redis, group, 1);
                // (no streams here: the first feed's proof never comes, so it records nothing; this instance's file's holds)
                redis.set(RedisLayout.holdsKey(NAMESPACE), oldHolds);

                // another instance starts on the new file: it records the new holds, and its wholesale scan passes the key
                redis.set(RedisLayout.holdsKey(NAMESPACE), newHolds);
                f.sendUpsert(topic, old, upsert(NAMESPACE, entry, "5"));
                f.flush();
                Counter undone = registry.get(RegionMeterNames.UPSERTS_UNDONE).tag("region", REGION).tag("reason", "other-holds")
                        .counter();
                RegionFixture.await("the upsert undone", Duration.ofSeconds(30), () -> undone.count() >= 1);
                assertEquals(0, redis.exists(entry), "no entry at an LSN left in a namespace the region's Redis records as "
                        + "column-versioned now (nothing later removes it)");
                assertEquals("5", redis.hget(RedisLayout.fenceKey(entry), RedisLayout.ENTRY_VERSION), "fenced at the upsert's version");
                assertEquals(1.0, undone.count());

                // not held for it: the region's deletes go on, and the undone batch is committed with them
                String sentinel = p + "product:1";
                redis.hset(sentinel, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "old"));
                f.send(topic, RegionFixture.key("product", sentinel, "6"));
                f.flush();
                RegionFixture.await("the sentinel applied while the holds still differ", Duration.ofSeconds(30),
                        () -> redis.exists(sentinel) == 0);
                RegionFixture.await("the undone batch and the sentinel committed", Duration.ofSeconds(30),
                        () -> uncheck(() -> f.committed(group, topic)) == 9 + 1 + 1);
                assertTrue(region.misconfigured().isEmpty() && region.isRunning(), "applying all along");

                // none recorded (lost): nothing to compare with, the upsert is not undone (the region's marker check
                // records the holds again and invalidates the namespace wholesale, HoldsReconcileIT: the entry itself
                // may be gone by then, so only the undo is looked at here)
                redis.del(RedisLayout.holdsKey(NAMESPACE));
                String kept = p + "hot:2";
                f.sendUpsert(topic, old, upsert(NAMESPACE, kept, "7"));
                f.flush();
                RegionFixture.await("its batch committed", Duration.ofSeconds(30),
                        () -> uncheck(() -> f.committed(group, topic)) == 9 + 1 + 1 + 1);
                assertEquals(1.0, registry.get(RegionMeterNames.UPSERTS_UNDONE).tag("region", REGION).tag("reason", "other-holds")
                        .counter().count(), "nothing more undone");
            }
        }
    }

    /**
     * On a Redis Cluster, the holds of two namespaces on other masters than each other (and than the entries) are
     * read back after the upserts: the one whose holds are the new file's is undone, the other kept.
     */
    @Test
    void onAClusterTheHoldsOfEveryNamespaceUpsertedAreReadAgainWhereverTheyLive(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope);
                RedisClusterClient client = RedisClusterClient.create(stack.redisClusterUri());
                StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            RedisAdvancedClusterCommands<String, String> redis = connection.sync();
            String p = scope.keyPrefix();
            String regions = "{ redis: \"" + stack.redisClusterUri() + "\", topology: cluster }";
            String ns = "%s: { table: public.%s, keys: [\"" + p + "%s:{id}\"], mode: upsert, payload-columns: [name]%s }\n";
            String kept = "undonekept";
            LetheConfig old = f.config(f.yaml(Map.of(REGION, regions), ns.formatted(kept, kept, kept, "")
                    + ns.formatted(NAMESPACE, NAMESPACE, NAMESPACE, ""), ""));
            LetheConfig next = f.config(f.yaml(Map.of(REGION, regions), ns.formatted(kept, kept, kept, "")
                    + ns.formatted(NAMESPACE, NAMESPACE, NAMESPACE, ", version: \"column:ver\""), ""));
            assertNotEquals(redis.clusterKeyslot(RedisLayout.holdsKey(kept)), redis.clusterKeyslot(RedisLayout.holdsKey(NAMESPACE)));
            String topic = old.topics().invalidations(REGION);
            String group = RegionConsumerService.groupId(old, REGION);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (RegionConsumerService region = new RegionConsumerService(old, REGION, registry, Clock.systemUTC())) {
                region.start();
                f.sendHeartbeats(topic, 1);
                RegionFixture.await("the heartbeats applied", Duration.ofSeconds(60),
                        () -> AppliedLsn.of(redis.hgetall(AppliedLsn.key(group))).orElse(-1) >= 1);
                redis.set(RedisLayout.holdsKey(NAMESPACE), RedisLayout.holds(next.namespaces().get(NAMESPACE).readerHolds()));
                String keptEntry = p + kept + ":1";
                String undoneEntry = p + NAMESPACE + ":1";
                // one partition, the kept one first: in one batch (both holds keys read after it) or before it
                for (InvalidationEvent e : List.of(upsert(kept, keptEntry, "5"), upsert(NAMESPACE, undoneEntry, "5"))) {
                    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, 0, e.target(), EventJson.write(e));
                    record.headers().add(Headers.HOLDS,
                            old.namespaces().get(e.namespace()).holdsFingerprint().getBytes(StandardCharsets.UTF_8));
                    f.sendRecord(record);
                }
                f.flush();
                Counter undone = registry.get(RegionMeterNames.UPSERTS_UNDONE).tag("region", REGION).tag("reason", "other-holds")
                        .counter();
                RegionFixture.await("the upsert undone, the other written", Duration.ofSeconds(30),
                        () -> undone.count() >= 1 && redis.exists(keptEntry) == 1);
                assertEquals(0, redis.exists(undoneEntry), "undone: its namespace's holds are the new file's");
                assertEquals("5", redis.hget(RedisLayout.fenceKey(undoneEntry), RedisLayout.ENTRY_VERSION));
                assertEquals(1, redis.exists(keptEntry), "kept: its namespace's holds are this instance's");
                assertEquals(1.0, registry.get(RegionMeterNames.UPSERTS_UNDONE).tag("region", REGION).tag("reason", "other-holds")
                        .counter().count());
            } finally {
                redis.del(RedisLayout.holdsKey(NAMESPACE), RedisLayout.holdsKey(kept));
            }
        }
    }

    private static InvalidationEvent upsert(String namespace, String key, String version) {
        long now = RegionFixture.now();
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, UUID.randomUUID().toString(), namespace, Scope.ROW, key, null,
                Action.UPSERT, "{\"name\":\"x\"}", version, Long.parseLong(version), 1L, now, now, now, null, Op.UPDATE, null, null);
    }

    private interface ThrowingLong {
        long get() throws Exception;
    }

    private static long uncheck(ThrowingLong f) {
        try {
            return f.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
