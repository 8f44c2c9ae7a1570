package io.lethe.dev;

import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.LetheStack;
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
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The source's LSNs go back (a restore, a failover to an asynchronous standby, a blue/green
 * switch): its heartbeats come from another history, at lower LSNs. The test plays capture (only
 * Streams and the region consumer run) and writes heartbeats' watermarks of two histories onto
 * every changes partition. The region's applied watermark must start again in the new history,
 * not keep the old history's higher LSN, which would cover every token of the new one.
 */
@ExtendWith(LetheStackExtension.class)
class SourceHistoryIT {
    private static final String OLD = "7000000000000000001/1";
    private static final String NEW = "7000000000000000001/2";

    @Test
    void theAppliedWatermarkStartsAgainWhenTheSourcesHistoryChanges(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, name text)");
            String p = scope.keyPrefix();
            LetheConfig config = f
                    .config(f.yaml(List.of("us-east"), "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
            Pipeline pipeline = Pipeline.start(config, new Roles(false, true, List.of("us-east")), f.registry, Clock.systemUTC());
            f.own(pipeline::close);
            RedisCommands<String, String> east = f.redis("us-east");
            String key = AppliedLsn.key(RegionConsumerService.groupId(config, "us-east"));
            var props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, scope.id() + "-heartbeats");
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
                heartbeat(producer, config, 5_000_000, OLD);
                Await.until("us-east applies the old history's heartbeat", Duration.ofSeconds(90),
                        () -> AppliedLsn.of(east.hgetall(key)).equals(OptionalLong.of(5_000_000)));

                // the source was restored: its history is another, its LSNs are lower
                heartbeat(producer, config, 1_000_000, NEW);
                heartbeat(producer, config, 1_000_100, NEW);
                Await.until("us-east's applied watermark starts again in history " + NEW + " (it says "
                        + east.hgetall(key) + " after the source's LSNs went back: every token of the new history counts as covered)",
                        Duration.ofSeconds(30), () -> AppliedLsn.of(east.hgetall(key)).equals(OptionalLong.of(1_000_100)));
            }
        }
    }

    @Test
    void capturesHeartbeatsNameTheHistoryTokensAreTakenInAndATokenOfAnotherHistoryIsNotCovered(LetheStack stack, TestScope scope)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, name text)", "INSERT INTO products VALUES (1, 'a')");
            String p = scope.keyPrefix();
            LetheConfig config = f
                    .config(f.yaml(List.of("us-east"), "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
            f.start(config);
            RedisCommands<String, String> east = f.redis("us-east");
            String key = AppliedLsn.key(RegionConsumerService.groupId(config, "us-east"));
            io.lethe.embedded.PostgresEndpoint pg = stack.postgres();
            io.lethe.cache.ReadToken token;
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password())) {
                token = io.lethe.cache.ReadTokens.take(c);
            }
            org.junit.jupiter.api.Assertions.assertTrue(token.history().matches("\\d+/\\d+"), token.toString());
            Await.until("us-east's watermark covers the token in its own history", Duration.ofSeconds(60), () -> {
                OptionalLong applied = AppliedLsn.of(east.hgetall(key), token.history());
                return applied.isPresent() && applied.getAsLong() >= token.lsn();
            });
            String entry = p + "product:1";
            east.hset(entry, java.util.Map.of(io.lethe.schemas.redis.RedisLayout.ENTRY_VERSION, "0",
                    io.lethe.schemas.redis.RedisLayout.ENTRY_DATA, "cached"));
            try (io.lethe.cache.LetheCache cache = io.lethe.cache.LetheCache.builder(stack.redisUri("us-east")).shadowReadsHeal(false)
                    .readYourWrites(RegionConsumerService.groupId(config, "us-east")).build()) {
                var products = cache.namespace("product", io.lethe.cache.Codecs.utf8(), io.lethe.cache.Policy.eventual());
                org.junit.jupiter.api.Assertions.assertEquals("cached",
                        products.get(entry, k -> io.lethe.cache.Loaded.of("primary"), token),
                        "a token of the watermark's own history is covered");
                east.hset(entry, java.util.Map.of(io.lethe.schemas.redis.RedisLayout.ENTRY_VERSION, "0",
                        io.lethe.schemas.redis.RedisLayout.ENTRY_DATA, "cached"));
                var restored = new io.lethe.cache.ReadToken(1, token.history().replaceAll("/\\d+$", "/999"));
                org.junit.jupiter.api.Assertions.assertEquals("primary",
                        products.get(entry, k -> io.lethe.cache.Loaded.of("primary"), restored),
                        "a token of another history (LSN 1 on timeline 999) is not covered by this history's watermark");
            }
        }
    }

    /**
     * Capture starts on a source whose history is not the one its last heartbeat recorded (here the
     * row says another timeline, as after a failover to an asynchronous standby, whose LSNs went
     * back): an entry cached at a version of the old history, above every new LSN, must go.
     */
    @Test
    void captureInvalidatesEverythingWhenTheSourcesHistoryChangedWhileItWasAway(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, name text)", "INSERT INTO products VALUES (1, 'a')");
            String p = scope.keyPrefix();
            LetheConfig config = f
                    .config(f.yaml(List.of("us-east"), "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
            RedisCommands<String, String> east = f.redis("us-east");
            String key = AppliedLsn.key(RegionConsumerService.groupId(config, "us-east"));
            Pipeline first = f.start(config);
            Await.until("us-east applies a heartbeat", Duration.ofSeconds(60), () -> AppliedLsn.of(east.hgetall(key)).isPresent());
            first.close();

            // what the old history cached: a version far above anything the new one will reach soon
            String entry = p + "product:1";
            east.hset(entry, java.util.Map.of(io.lethe.schemas.redis.RedisLayout.ENTRY_VERSION, "900000000000000",
                    io.lethe.schemas.redis.RedisLayout.ENTRY_DATA, "old history"));
            f.sql("UPDATE " + config.source().heartbeatTable() + " SET source_history = '7000000000000000001/1' WHERE slot = '"
                    + config.source().slot() + "'");
            f.start(config);
            Await.until("the entry cached in the old history is invalidated (it says " + east.hgetall(entry) + ")",
                    Duration.ofSeconds(60), () -> east.exists(entry) == 0);
        }
    }

    /** A heartbeat's watermark on every partition of the changes topic, as capture writes it. */
    private static void heartbeat(KafkaProducer<String, byte[]> producer, LetheConfig config, long lsn, String history) throws Exception {
        String topic = config.topics().changes();
        long micros = System.currentTimeMillis() * 1000;
        for (var partition : producer.partitionsFor(topic)) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, partition.partition(), Watermark.KEY, new byte[0]);
            record.headers().add(Watermark.COMMIT_TS, Long.toString(micros).getBytes(StandardCharsets.UTF_8));
            record.headers().add(Watermark.LSN, Long.toString(lsn).getBytes(StandardCharsets.UTF_8));
            record.headers().add(Watermark.HISTORY, history.getBytes(StandardCharsets.UTF_8));
            producer.send(record).get();
        }
    }
}
