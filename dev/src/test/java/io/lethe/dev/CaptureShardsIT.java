package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.cache.ReadTokens;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import io.lettuce.core.api.sync.RedisCommands;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Capture beyond one slot: two capture shards (two slots, two publications, two captures in this
 * JVM) feed one changes topic. Writes to the tables of both reach every region; a read-your-writes
 * token is covered only once both shards' watermarks passed it (with one shard's capture stopped,
 * the other's watermarks past the token are applied in the region and the token is still not
 * covered); the stopped shard's changes made while it was down arrive when it starts again.
 */
@ExtendWith(LetheStackExtension.class)
class CaptureShardsIT {
    private static final List<String> REGIONS = List.of("us-east", "eu-west");
    private static final int ROWS = 20;

    @Test
    void writesToBothShardsReachEveryRegionAndATokenWaitsForEveryShard(LetheStack stack, TestScope scope) throws Exception {
        String p = scope.keyPrefix();
        String catalogSlot = scope.slot() + "_catalog";
        String ordersSlot = scope.slot() + "_orders";
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, name text)", "CREATE TABLE orders (id int PRIMARY KEY, state text)",
                    "INSERT INTO products SELECT g, 'p' FROM generate_series(1, " + ROWS + ") g",
                    "INSERT INTO orders SELECT g, 'new' FROM generate_series(1, " + ROWS + ") g");
            LetheConfig config = f.config(yaml(stack, scope, catalogSlot, ordersSlot));
            assertEquals(List.of("catalog", "orders"), config.source().shardOrder());

            // regions and streams first, then one capture per shard, each in a pipeline of its own (so one can stop alone)
            Pipeline rest = f.own(Pipeline.start(config, new Roles(false, true, REGIONS), f.registry, Clock.systemUTC()));
            Pipeline catalog = f
                    .own(Pipeline.start(config, Roles.parse(List.of("capture:catalog"), config), f.registry, Clock.systemUTC()));
            Pipeline orders = f.own(Pipeline.start(config, Roles.parse(List.of("capture:orders"), config), f.registry, Clock.systemUTC()));
            assertEquals(List.of("capture:catalog"), List.copyOf(catalog.health().keySet()));
            PipelineFixture.awaitFirstFeeds(rest);

            // 1. writes to the tables of both shards reach every region: nothing stays stale
            plant(f, p, "product", 1, ROWS);
            plant(f, p, "order", 1, ROWS);
            f.sql("UPDATE products SET name = 'q'", "UPDATE orders SET state = 'paid'");
            awaitGone(f, p, "product", 1, ROWS, "every product change, captured by shard catalog");
            awaitGone(f, p, "order", 1, ROWS, "every order change, captured by shard orders");
            for (String region : REGIONS) {
                String key = AppliedLsn.key(RegionConsumerService.groupId(config, region));
                RedisCommands<String, String> redis = f.redis(region);
                Await.until(region + " publishes its applied watermark", Duration.ofSeconds(60),
                        () -> AppliedLsn.of(redis.hgetall(key)).isPresent());
            }

            // 2. shard orders' capture stops: a token taken after writes to both shards is not covered while it is down,
            // although shard catalog's watermarks past the token were applied in every region
            orders.close();
            plant(f, p, "order", 1, ROWS);
            f.sql("UPDATE orders SET state = 'shipped'", "UPDATE products SET name = 'r'");
            long token = token(stack, scope);
            for (String region : REGIONS) {
                awaitShardApplied(config, region, "catalog", token);
                OptionalLong applied = AppliedLsn
                        .of(f.redis(region).hgetall(AppliedLsn.key(RegionConsumerService.groupId(config, region))));
                assertTrue(applied.isEmpty() || applied.getAsLong() < token, region + " claims token " + token + " covered ("
                        + applied + ") with shard orders' capture stopped: its changes since are not applied");
                for (int id = 1; id <= ROWS; id++) {
                    assertEquals(1L, f.redis(region).exists(p + "order:" + id), region + ": order " + id
                            + " was invalidated while the capture of its shard was stopped?");
                }
            }

            // lethe lag names the shard that is down: its watermark is older than the one still capturing (whose newest
            // passed the token, while the stopped shard's last one is from before it)
            Map<String, Double> ages = lagAges(config);
            assertEquals(java.util.Set.of("catalog", "orders"), ages.keySet(), "lethe lag reports every shard: " + ages);
            assertTrue(ages.get("orders") > ages.get("catalog"), "the stopped shard's watermark is the older: " + ages);

            // 3. shard orders starts again: nothing written while it was down is lost, and the token is covered
            f.own(Pipeline.start(config, Roles.parse(List.of("capture:orders"), config), f.registry, Clock.systemUTC()));
            awaitGone(f, p, "order", 1, ROWS, "every order change made while shard orders' capture was stopped");
            for (String region : REGIONS) {
                String key = AppliedLsn.key(RegionConsumerService.groupId(config, region));
                RedisCommands<String, String> redis = f.redis(region);
                Await.until(region + " covers token " + token + " once both shards' watermarks passed it", Duration.ofSeconds(90),
                        () -> AppliedLsn.of(redis.hgetall(key)).orElse(-1) >= token);
            }
            // lethe doctor checks every shard's slot and publication, each line named by its shard
            List<io.lethe.capture.source.CheckResult> doctor = new io.lethe.cli.doctor.Doctor(config).run();
            for (String shard : List.of("catalog", "orders")) {
                io.lethe.capture.source.CheckResult publication = check(doctor, shard, "publication");
                assertTrue(publication.status() != io.lethe.capture.source.CheckResult.Status.FAIL, publication.toString());
                // the shard's own slot (in use by its running capture, which the doctor reports as it does for one capture)
                assertTrue(check(doctor, shard, "slot").message().contains(scope.slot() + "_" + shard), doctor.toString());
            }
        } finally {
            dropSlots(stack, scope, catalogSlot, ordersSlot);
        }
    }

    private static String yaml(LetheStack stack, TestScope scope, String catalogSlot, String ordersSlot) {
        PostgresEndpoint pg = stack.postgres();
        StringBuilder regions = new StringBuilder();
        REGIONS.forEach(r -> regions.append("  ").append(r).append(": { redis: ").append(stack.redisUri(r)).append(" }\n"));
        return """
                source:
                  jdbc-url: %s
                  user: %s
                  heartbeat-interval: 1s
                  shards:
                    orders: { slot: %s, publication: %s, tables: [public.orders] }
                    catalog: { slot: %s, publication: %s, tables: [public.products] }
                kafka:
                  bootstrap-servers: %s
                  topic-prefix: %s
                  partitions: 3
                streams:
                  application-id: %s-streams
                apply:
                  group-prefix: %s-region-
                regions:
                %snamespaces:
                  product: { table: public.products, keys: ["%sproduct:{id}"] }
                  order: { table: public.orders, keys: ["%sorder:{id}"] }
                """.formatted(pg.jdbcUrl(scope.database()), pg.user(), ordersSlot, ordersSlot, catalogSlot, catalogSlot,
                stack.kafkaBootstrapServers(), scope.topicPrefix(), scope.id(), scope.id(), regions, scope.keyPrefix(), scope.keyPrefix());
    }

    /** Legacy entries (any invalidation deletes them) for ids {@code from..to} in every region. */
    private static void plant(PipelineFixture f, String prefix, String kind, int from, int to) {
        for (String region : REGIONS) {
            for (int id = from; id <= to; id++) {
                f.redis(region).set(prefix + kind + ":" + id, "cached");
            }
        }
    }

    private static void awaitGone(PipelineFixture f, String prefix, String kind, int from, int to, String what)
            throws InterruptedException {
        for (String region : REGIONS) {
            Await.until(region + " applies " + what, Duration.ofSeconds(90), () -> {
                for (int id = from; id <= to; id++) {
                    if (f.redis(region).exists(prefix + kind + ":" + id) != 0) {
                        return false;
                    }
                }
                return true;
            });
        }
    }

    private static long token(LetheStack stack, TestScope scope) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password())) {
            return ReadTokens.afterCommit(c);
        }
    }

    /**
     * The sentinel: on every partition of the region's topic, a watermark of shard {@code shard} at or
     * past {@code token} through every changes partition, and the region's group
     * committed past all of them. The region has then applied that shard's watermarks past the token.
     */
    private static void awaitShardApplied(LetheConfig config, String region, String shard, long token) throws Exception {
        String topic = config.topics().invalidations(region);
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "shards-it-" + region);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
                Admin admin = Admin
                        .create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "shards-it-admin-" + region))) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
            int changes = consumer.partitionsFor(config.topics().changes()).size();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Map<Integer, Long>> found = new HashMap<>(); // partition -> channel -> offset of its first watermark past the token
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            // one per changes partition it came through (its source header), whatever channel numbering streams uses
            while (partitions.stream().anyMatch(tp -> found.getOrDefault(tp, Map.of()).size() < changes)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(
                            "timed out waiting for shard " + shard + "'s watermarks past " + token + " on " + topic + ": " + found);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (Watermark.isWatermark(r.key())) {
                        Watermark w = Watermark.read(r.headers()).orElseThrow();
                        if (shard.equals(w.shard()) && w.lsn() >= token) {
                            found.computeIfAbsent(new TopicPartition(topic, r.partition()), k -> new HashMap<>()).putIfAbsent(w.source(),
                                    r.offset());
                        }
                    }
                }
            }
            String group = RegionConsumerService.groupId(config, region);
            Await.until(region + " applies shard " + shard + "'s watermarks past " + token, Duration.ofSeconds(90), () -> {
                try {
                    Map<TopicPartition, OffsetAndMetadata> committed = GroupOffsets.committed(admin, group, Duration.ofSeconds(10));
                    return found.entrySet().stream().allMatch(e -> committed.get(e.getKey()) != null
                            && committed.get(e.getKey()).offset() > e.getValue().values().stream().mapToLong(Long::longValue).max()
                                    .orElseThrow());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    private static io.lethe.capture.source.CheckResult check(List<io.lethe.capture.source.CheckResult> doctor, String shard, String name) {
        return doctor.stream().filter(c -> c.check().equals("shard " + shard + ": " + name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " check of shard " + shard + ": " + doctor));
    }

    /** Each capture shard's watermark age as {@code lethe lag} reads it from the changes topic. */
    private static Map<String, Double> lagAges(LetheConfig config) throws Exception {
        io.lethe.cli.lag.LagReport report = new io.lethe.cli.lag.LagReport(config, Clock.systemUTC());
        report.compute(List.of());
        return report.captureAges();
    }

    private static void dropSlots(LetheStack stack, TestScope scope, String... slots) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password())) {
            for (String slot : slots) {
                try (var ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                        + "WHERE slot_name = ? AND NOT active")) {
                    ps.setString(1, slot);
                    ps.execute();
                }
            }
        }
    }
}
