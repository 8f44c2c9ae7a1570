package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cache.ReadTokens;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.redis.AppliedLsn;
import io.lettuce.core.api.sync.RedisCommands;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The documented scale-out path: partitions added to a region's topic. A change routed to a new
 * partition is applied only once the region's consumers were assigned it; until a heartbeat was
 * applied on every partition the topic has now, the region's applied watermark may not claim to
 * cover a read-your-writes token (readers and prewarm trust it).
 */
@ExtendWith(LetheStackExtension.class)
class PartitionExpansionIT {
    private static final int BEFORE = 3;
    private static final int AFTER = 6;

    @Test
    void theAppliedWatermarkCoversATokenOnlyOnceEveryNewPartitionIsApplied(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE products (id int PRIMARY KEY, name text)", "INSERT INTO products VALUES (1, 'a')");
            String yaml = f.yaml(List.of("us-east"), "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", "");
            LetheConfig config = f.config(yaml);
            f.start(config);
            RedisCommands<String, String> east = f.redis("us-east");
            String key = AppliedLsn.key(RegionConsumerService.groupId(config, "us-east"));
            Await.until("us-east publishes its applied watermark", Duration.ofSeconds(60),
                    () -> AppliedLsn.of(east.hgetall(key)).isPresent());
            assertEquals(Integer.toString(BEFORE), east.hget(key, AppliedLsn.PARTITIONS));

            String topic = config.topics().invalidations("us-east");
            try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, scope.id() + "-expand"))) {
                admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(AFTER))).all().get();
            }
            f.sql("UPDATE products SET name = 'b' WHERE id = 1");
            long token;
            PostgresEndpoint pg = stack.postgres();
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password())) {
                token = ReadTokens.afterCommit(c);
            }
            Await.until("us-east's applied watermark covers the token", Duration.ofSeconds(120), () -> {
                OptionalLong applied = AppliedLsn.of(east.hgetall(key));
                return applied.isPresent() && applied.getAsLong() >= token;
            });
            Map<String, String> fields = new TreeMap<>(east.hgetall(key));
            assertEquals(Integer.toString(AFTER), fields.get(AppliedLsn.PARTITIONS),
                    "the applied watermark covered token " + token + " counting " + fields.get(AppliedLsn.PARTITIONS)
                            + " partitions of " + topic + ", which has " + AFTER + " now: " + fields);
            for (int partition = 0; partition < AFTER; partition++) {
                String lsn = fields.get(Integer.toString(partition));
                assertTrue(lsn != null && Long.parseLong(lsn) >= token,
                        "partition " + partition + " was not applied past the token " + token + ": " + fields);
            }
        }
    }

    /**
     * {@code lethe lag}'s end-to-end figure after the region topic was expanded: a partition added
     * later that the region's group has not applied (no commit, so no watermark in its metadata)
     * must not be left out. Its oldest unapplied record is older than the watermarks of the others.
     */
    @Test
    void letheLagCountsAPartitionAddedLaterThatTheRegionHasNotApplied(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            LetheConfig config = f.config(f.yaml(List.of("us-east"), "product: { table: public.products, keys: [\"" + scope.keyPrefix()
                    + "product:{id}\"] }", ""));
            io.lethe.stage.kafka.TopicSetup.ensure(config, io.lethe.config.KafkaRole.CLI,
                    io.lethe.stage.kafka.TopicSetup.pipelineTopics(config), Duration.ofSeconds(30));
            String topic = config.topics().invalidations("us-east");
            long nowMicros = System.currentTimeMillis() * 1000;
            try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, scope.id() + "-lag"))) {
                // the region applied everything its 3 partitions held, up to a heartbeat committed just now
                Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> commits = new java.util.HashMap<>();
                for (int partition = 0; partition < BEFORE; partition++) {
                    commits.put(new org.apache.kafka.common.TopicPartition(topic, partition),
                            new org.apache.kafka.clients.consumer.OffsetAndMetadata(0, "watermark=" + nowMicros));
                }
                admin.alterConsumerGroupOffsets(RegionConsumerService.groupId(config, "us-east"), commits).all().get();
                admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(BEFORE + 1))).all().get();
            }
            // a record on the added partition, committed 120 s ago and not applied
            try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(KafkaClients.common(config.kafka(),
                    io.lethe.config.KafkaRole.CLI, scope.id() + "-producer"), new org.apache.kafka.common.serialization.StringSerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, BEFORE, System.currentTimeMillis() - 120_000,
                        scope.keyPrefix() + "product:1", new byte[0])).get();
            }
            io.lethe.cli.lag.LagReport.Row row = new io.lethe.cli.lag.LagReport(config, java.time.Clock.systemUTC()).compute(List.of())
                    .get(0);
            assertTrue(row.endToEndSeconds() >= 100, "the end-to-end lag must count the unapplied record of the added partition "
                    + BEFORE + " (120 s old), not only the watermarks of the partitions committed: " + row);
        }
    }
}
