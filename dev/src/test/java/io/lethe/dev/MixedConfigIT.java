package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.region.apply.TopicMove;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Configuration skew inside one region ({@code MarkerView}): instances of one region's consumer group
 * on two configurations during a rolling restart, and a region's Redis restored from a snapshot taken
 * before a configuration change while its consumer runs. Neither may leave an entry no invalidation
 * reaches.
 */
@ExtendWith(LetheStackExtension.class)
class MixedConfigIT {
    private static final String REGION = "us-east";

    /**
     * A rolling restart from {@code version: lsn} to {@code version: column:ver}: the first instance on the
     * new file invalidates wholesale and records the new configuration; an instance still on the old file
     * refuses the new streams' column versions ({@code version-out-of-range}). Dead-lettered and committed
     * past, that invalidation would never be applied, and the instance's restart on the new file would find
     * the marker matching. It holds instead, and applies it once restarted on the new file.
     */
    @Test
    void anInstanceStillOnTheOldFileHoldsWhatItRefusesUntilItRunsTheFileTheMarkerRecords(EmbeddedStack stack, TestScope scope)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int, ver bigint NOT NULL)",
                    "INSERT INTO products VALUES (1, 10, 1), (2, 20, 1)");
            String p = scope.keyPrefix();
            String group = scope.id() + "-region-" + REGION;
            String byLsn = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p);
            LetheConfig before = f.config(f.yaml(List.of(REGION), byLsn, ""));
            LetheConfig after = f.config(f.yaml(List.of(REGION), byLsn + "  version: column:ver\n", ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            try (Pipeline all = Pipeline.start(before, Roles.all(before), f.registry, Clock.systemUTC())) {
                Await.until("us-east records what it is fed", Duration.ofSeconds(90), () -> redis.exists(TopicMove.markerKey(group)) == 1);
            }
            String oldHolds = redis.hget(TopicMove.markerKey(group), "holds");
            String entry = p + "product:2";
            String topic = after.topics().invalidations(REGION);
            try (Pipeline oldInstance = Pipeline.start(before, new Roles(false, false, List.of(REGION)), f.registry, Clock.systemUTC());
                    Pipeline upstream = Pipeline.start(after, new Roles(true, true, List.of()), f.registry, Clock.systemUTC())) {
                // the first instance on the new file: its wholesale invalidation, then the new marker
                try (Pipeline newInstance = Pipeline.start(after, new Roles(false, false, List.of(REGION)), f.registry,
                        Clock.systemUTC())) {
                    Await.until("the new instance records the new configuration", Duration.ofSeconds(120),
                            () -> !oldHolds.equals(redis.hget(TopicMove.markerKey(group), "holds")));
                }
                // a reader on the new file fills row 2 at its column version; then the row changes (ver = 2)
                redis.hset(entry, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":20}"));
                try (KafkaConsumer<String, String> watch = watcher(stack, topic)) {
                    f.sql("UPDATE products SET price = 21, ver = 2 WHERE id = 2");
                    Await.until("row 2's invalidation on " + topic, Duration.ofSeconds(90), () -> {
                        for (ConsumerRecord<String, String> r : watch.poll(Duration.ofMillis(200))) {
                            if (entry.equals(r.key())) {
                                return true;
                            }
                        }
                        return false;
                    });
                }
                // the old instance owns every partition now: it refuses the column version (dead-letters it, or holds)
                Await.until("the old instance refused or held", Duration.ofSeconds(60), () -> dlq(f, "version-out-of-range") > 0
                        || f.registry.counter(RegionMeterNames.RETRIES, "region", REGION, "kind", "config-skew").count() > 0);
                Await.until("the old instance held at least twice", Duration.ofSeconds(30), () -> dlq(f, "version-out-of-range") > 0
                        || f.registry.counter(RegionMeterNames.RETRIES, "region", REGION, "kind", "config-skew").count() > 1);
                assertEquals("1", redis.hget(entry, RedisLayout.ENTRY_VERSION), "nothing applied the change meanwhile");
            }
            // the old instance restarted on the new file (the rollout done)
            try (Pipeline restarted = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC())) {
                f.sql("UPDATE products SET price = 11, ver = 2 WHERE id = 1");
                long changed = currentLsn(f);
                Await.until("us-east applied past a later change", Duration.ofSeconds(120), () -> {
                    OptionalLong applied = AppliedLsn.of(redis.hgetall(AppliedLsn.key(group)));
                    return applied.isPresent() && applied.getAsLong() >= changed;
                });
                assertEquals(0, redis.exists(entry), "the invalidation the old instance refused is applied, not lost");
                assertEquals(0.0, dlq(f, "version-out-of-range"), "held, never dead-lettered");
            }
        }
    }

    /**
     * A snapshot of the region's Redis taken before {@code version: lsn -> column:ver} holds an entry at an
     * LSN; restored while the consumer runs on the new configuration, the replay from its checkpoint brings
     * no invalidation of the move (applied directly in Redis, not on the topic), and an invalidation at the
     * column's version never reaches that entry. The restored marker is compared with what the region is
     * fed now, and the namespace invalidated wholesale.
     */
    @Test
    void aRedisRestoredFromASnapshotOfAnotherConfigurationIsInvalidatedAsAMoveWould(EmbeddedStack stack, TestScope scope)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int, ver bigint NOT NULL)",
                    "INSERT INTO products VALUES (1, 10, 1), (2, 20, 1)");
            String p = scope.keyPrefix();
            String group = scope.id() + "-region-" + REGION;
            String byLsn = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p);
            LetheConfig before = f.config(f.yaml(List.of(REGION), byLsn, ""));
            LetheConfig after = f.config(f.yaml(List.of(REGION), byLsn + "  version: column:ver\n", ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            String entry = p + "product:1";
            try (Pipeline all = Pipeline.start(before, Roles.all(before), f.registry, Clock.systemUTC())) {
                Await.until("us-east records what it is fed", Duration.ofSeconds(90), () -> redis.exists(TopicMove.markerKey(group)) == 1);
                f.sql("UPDATE products SET price = 21 WHERE id = 2");
                Await.until("us-east checkpointed", Duration.ofSeconds(90),
                        () -> redis.exists(RedisLayout.checkpointKey(group)) == 1);
                // a reader fills row 1 at the LSN it read it at, as readers of an lsn namespace do
                redis.hset(entry, Map.of(RedisLayout.ENTRY_VERSION, Long.toString(currentLsn(f)), RedisLayout.ENTRY_DATA,
                        "{\"price\":10}"));
                redis.save();
            }
            try (Pipeline running = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC())) {
                Await.until("the move to column versions invalidated wholesale", Duration.ofSeconds(120),
                        () -> f.registry.counter(RegionMeterNames.TOPIC_MOVES, "region", REGION).count() == 1.0);
                assertEquals(0, redis.exists(entry));
                stack.crashRedis(REGION, List.of());
                assertEquals(1, redis.exists(entry), "the snapshot brought the entry filled at an LSN back");
                Await.until("the restore noticed", Duration.ofSeconds(60), () -> RegionMeterNames.RESTORE_ACTIONS.stream()
                        .mapToDouble(a -> f.registry.counter(RegionMeterNames.REDIS_RESTORES, "region", REGION, "action", a).count())
                        .sum() >= 1);
                f.sql("UPDATE products SET price = 11, ver = 2 WHERE id = 1");
                long changed = currentLsn(f);
                Await.until("us-east applied past the change of row 1", Duration.ofSeconds(120), () -> {
                    OptionalLong applied = AppliedLsn.of(redis.hgetall(AppliedLsn.key(group)));
                    return applied.isPresent() && applied.getAsLong() >= changed;
                });
                assertEquals(0, redis.exists(entry), "the restored entry filled at an LSN is gone: no column version reaches it");
                assertTrue(redis.hget(TopicMove.markerKey(group), "holds").contains("column:ver"),
                        "the restored marker is replaced by what the region is fed now");
            }
        }
    }

    private static double dlq(PipelineFixture f, String reason) {
        return f.registry.counter(RegionMeterNames.DLQ, "reason", reason, "stage", "region:" + REGION).count();
    }

    private static long currentLsn(PipelineFixture f) throws Exception {
        io.lethe.embedded.PostgresEndpoint pg = f.stack.postgres();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(f.scope.database()), pg.user(), pg.password());
                java.sql.ResultSet rs = c.createStatement()
                        .executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static KafkaConsumer<String, String> watcher(EmbeddedStack stack, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        KafkaConsumer<String, String> c = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        List<TopicPartition> partitions = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        c.assign(partitions);
        c.seekToEnd(partitions);
        partitions.forEach(c::position);
        return c;
    }
}
