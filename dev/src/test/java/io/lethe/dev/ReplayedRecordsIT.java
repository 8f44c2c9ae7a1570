package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.Action;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.serde.EventJson;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 34, replay: whoever can write a region's topic can copy an old, validly signed upsert back
 * into it. The signature verifies (it proves who wrote the record, not when), so once the key's
 * fence expired and its entry is gone, nothing in Redis remembers the newer version: the region must
 * judge the record's age by the stream itself (its applied watermark), and apply the copy as a
 * delete, never write the old value.
 */
@ExtendWith(LetheStackExtension.class)
class ReplayedRecordsIT {
    private static final String REGION = "us-east";

    @Test
    void aCopiedOldSignedUpsertIsAppliedAsADeleteNotAsTheOldValue(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE prices (id int PRIMARY KEY, price int)", "INSERT INTO prices VALUES (1, 10)");
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(List.of(REGION), """
                    price:
                      table: public.prices
                      keys: ["%sprice:{id}"]
                      mode: upsert
                      payload-columns: [price]
                    """.formatted(p), """
                    streams:
                      watermark-key: a-replay-test-key-of-32-characters
                    """));
            String topic = config.topics().invalidations(REGION);
            String key = p + "price:1";
            RedisCommands<String, String> redis = f.redis(REGION);
            String group = scope.id() + "-region-" + REGION;

            Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, scope.id() + "-replay-it");
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            try (KafkaConsumer<String, byte[]> watch = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
                    KafkaProducer<String, byte[]> attacker = new KafkaProducer<>(KafkaClients.common(config.kafka(),
                            io.lethe.config.KafkaRole.CLI, scope.id() + "-replay-it-producer"), new StringSerializer(),
                            new ByteArraySerializer())) {
                ConsumerRecord<String, byte[]> old;
                try (Pipeline running = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC())) {
                    // the region's first feed invalidates wholesale, and turns upserts it has passed into deletes: done first
                    PipelineFixture.awaitFirstFeeds(running);
                    watch.assign(watch.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList());
                    watch.seekToBeginning(watch.assignment());
                    f.sql("UPDATE prices SET price = 11 WHERE id = 1");
                    old = upsertOf(watch, key, "{\"price\":11}");
                    assertNotNull(old.headers().lastHeader(Headers.SIGNATURE), "streams signs what it writes");
                    Await.until("the first upsert applied", Duration.ofSeconds(60),
                            () -> "{\"price\":11}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
                    f.sql("UPDATE prices SET price = 12 WHERE id = 1");
                    Await.until("the newer upsert applied", Duration.ofSeconds(60),
                            () -> "{\"price\":12}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
                    replayAndExpectADelete(f, redis, attacker, old, group);

                    // a later real change is still applied as an upsert
                    f.sql("UPDATE prices SET price = 13 WHERE id = 1");
                    Await.until("a later change upserts again", Duration.ofSeconds(60),
                            () -> "{\"price\":13}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
                }
                // the region restarted (what it redelivers from its committed offsets is at most a delete too)
                try (Pipeline restarted = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC())) {
                    f.sql("UPDATE prices SET price = 14 WHERE id = 1");
                    Await.until("the restarted region upserts", Duration.ofSeconds(60),
                            () -> "{\"price\":14}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
                    replayAndExpectADelete(f, redis, attacker, old, group);
                }
            }
        }
    }

    /**
     * The changes topic (issue 34): capture signs every change; whoever can write the topic without
     * the key can make streams send at most deletes (a forged price at an admissible version is
     * dead-lettered as untrusted-record and reaches the region as a delete), and a copy of an old,
     * validly signed change is mapped and signed by streams like any other, so the region's replay
     * floor is what turns its upsert into a delete.
     */
    @Test
    void theChangesTopicCarriesSignedChangesAndNeitherAForgedNorACopiedOneWritesAValue(LetheStack stack, TestScope scope,
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE prices (id int PRIMARY KEY, price int)", "INSERT INTO prices VALUES (1, 10)");
            String p = scope.keyPrefix();
            String secret = "a-replay-test-key-of-32-characters";
            String yaml = f.yaml(List.of(REGION), """
                    price:
                      table: public.prices
                      keys: ["%sprice:{id}"]
                      mode: upsert
                      payload-columns: [price]
                    """.formatted(p), """
                    streams:
                      watermark-key: %s
                    """.formatted(secret));
            LetheConfig config = f.config(yaml);
            String key = p + "price:1";
            String group = scope.id() + "-region-" + REGION;
            RedisCommands<String, String> redis = f.redis(REGION);
            io.lethe.schemas.RecordSignature signature = new io.lethe.schemas.RecordSignature(
                    secret.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, scope.id() + "-changes-it");
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            try (Pipeline running = Pipeline.start(config, Roles.all(config), f.registry, Clock.systemUTC());
                    KafkaConsumer<String, byte[]> watch = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
                    KafkaConsumer<String, byte[]> dlq = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
                    KafkaProducer<String, byte[]> attacker = new KafkaProducer<>(KafkaClients.common(config.kafka(),
                            io.lethe.config.KafkaRole.CLI, scope.id() + "-changes-it-producer"), new StringSerializer(),
                            new ByteArraySerializer())) {
                // upserts count only once the region's partitions have a replay floor (before it, each is applied as a
                // delete): the first feed waits for the same heartbeats
                PipelineFixture.awaitFirstFeeds(running);
                String changes = config.topics().changes();
                watch.assign(watch.partitionsFor(changes).stream().map(i -> new TopicPartition(changes, i.partition())).toList());
                watch.seekToBeginning(watch.assignment());
                dlq.assign(
                        dlq.partitionsFor(config.topics().dlq()).stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList());
                dlq.seekToBeginning(dlq.assignment());

                f.sql("UPDATE prices SET price = 11 WHERE id = 1");
                ConsumerRecord<String, byte[]>[] found = new ConsumerRecord[1];
                Await.until("the change on " + changes, Duration.ofSeconds(90), () -> {
                    for (ConsumerRecord<String, byte[]> r : watch.poll(Duration.ofMillis(200))) {
                        if (!io.lethe.schemas.Watermark.isWatermark(r.key())
                                && new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)
                                        .contains("\"price\":11")) {
                            found[0] = r;
                            return true;
                        }
                    }
                    return false;
                });
                ConsumerRecord<String, byte[]> old = found[0];
                assertEquals(true, signature.verifies(old.headers(), old.key(), old.value()), "capture signs the change with the key");
                f.sql("UPDATE prices SET price = 12 WHERE id = 1");
                Await.until("the newer upsert applied", Duration.ofSeconds(60),
                        () -> "{\"price\":12}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));

                // forged, without the key: price 1 at a version just ahead, admissible in the region
                long ahead = currentLsn(f) + 1_000;
                com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
                com.fasterxml.jackson.databind.node.ObjectNode forged = (com.fasterxml.jackson.databind.node.ObjectNode) json
                        .readTree(old.value());
                ((com.fasterxml.jackson.databind.node.ObjectNode) forged.get("after")).put("price", 1);
                forged.put("id", "forged-" + ahead).put("version", Long.toString(ahead)).put("lsn", ahead);
                if (forged.has("commitLsn")) {
                    forged.put("commitLsn", ahead);
                }
                attacker.send(new ProducerRecord<>(old.topic(), old.partition(), old.key(), json.writeValueAsBytes(forged))).get();
                Await.until("the forged change dead-lettered as untrusted-record", Duration.ofSeconds(60), () -> {
                    for (ConsumerRecord<String, byte[]> r : dlq.poll(Duration.ofMillis(200))) {
                        var reason = r.headers().lastHeader(io.lethe.schemas.Headers.DLQ_REASON);
                        if (reason != null
                                && "untrusted-record".equals(new String(reason.value(), java.nio.charset.StandardCharsets.UTF_8))) {
                            return true;
                        }
                    }
                    return false;
                });
                Await.until("the forged change applied", Duration.ofSeconds(60), () -> !"{\"price\":12}".equals(redis.hget(key,
                        RedisLayout.ENTRY_DATA)));
                assertEquals(0L, redis.exists(key), "a forged change reaches the region as a delete, never as its price: "
                        + redis.hget(key, RedisLayout.ENTRY_DATA));
                // and lethe dlq replay does not send it back: its signature does not verify either
                java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("lethe.yml"), yaml);
                LetheCommand.Result replay = LetheCommand.lethe("dlq", "replay", "--config", file.toString(), "--reason",
                        "untrusted-record",
                        "--group", scope.id() + "-dlq-replay");
                assertEquals(0, replay.exit(), replay.out() + replay.err());
                assertTrue(replay.out().lines().anyMatch(l -> l.startsWith("skip") && l.contains("refused (untrusted-record)")),
                        "the forged change is skipped: " + replay.out());
                assertTrue(replay.out().contains("replayed 0 record(s)"), replay.out());

                // a copy of the old signed change, once the stream has passed it and Redis forgot the key
                redis.del(RedisLayout.fenceKey(key)); // the forged delete's fence, ahead of the WAL, expired
                f.sql("UPDATE prices SET price = 13 WHERE id = 1");
                Await.until("a real change upserts", Duration.ofSeconds(60),
                        () -> "{\"price\":13}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
                ProducerRecord<String, byte[]> copy = new ProducerRecord<>(old.topic(), old.partition(), old.key(), old.value());
                old.headers().forEach(h -> copy.headers().add(h.key(), h.value()));
                long now = currentLsn(f);
                Await.until("the applied watermark past the newest change", Duration.ofSeconds(60), () -> {
                    java.util.OptionalLong applied = io.lethe.schemas.redis.AppliedLsn
                            .of(redis.hgetall(io.lethe.schemas.redis.AppliedLsn.key(group)));
                    return applied.isPresent() && applied.getAsLong() >= now;
                });
                redis.del(key, RedisLayout.fenceKey(key));
                double before = replayed(f);
                attacker.send(copy).get();
                Await.until("the copied change applied", Duration.ofSeconds(60), () -> redis.exists(key) == 1 || replayed(f) > before);
                assertEquals(0L, redis.exists(key), "the old price " + redis.hget(key, RedisLayout.ENTRY_DATA)
                        + " came back from a copied change: a stale entry");
            }
        }
    }

    /**
     * Once the region applied a heartbeat after everything so far, and with the key's fence expired
     * and its entry gone, writes {@code old} back into its partition, byte for byte with its valid
     * signature, and expects it applied as a delete.
     */
    private static void replayAndExpectADelete(PipelineFixture f, RedisCommands<String, String> redis,
            KafkaProducer<String, byte[]> attacker,
            ConsumerRecord<String, byte[]> old, String group) throws Exception {
        String key = old.key();
        long now = currentLsn(f);
        Await.until("the applied watermark past the newest change", Duration.ofSeconds(60), () -> {
            java.util.OptionalLong applied = io.lethe.schemas.redis.AppliedLsn
                    .of(redis.hgetall(io.lethe.schemas.redis.AppliedLsn.key(group)));
            return applied.isPresent() && applied.getAsLong() >= now;
        });
        // the fence expired and the entry is gone (evicted, or its TTL ran out): Redis remembers nothing of the key
        redis.del(key, RedisLayout.fenceKey(key));
        double before = replayed(f);
        ProducerRecord<String, byte[]> copy = new ProducerRecord<>(old.topic(), old.partition(), old.key(), old.value());
        old.headers().forEach(h -> copy.headers().add(h.key(), h.value()));
        attacker.send(copy).get();

        Await.until("the copy applied", Duration.ofSeconds(60), () -> redis.exists(key) == 1 || replayed(f) > before);
        assertEquals(0L, redis.exists(key), "the old value " + redis.hget(key, RedisLayout.ENTRY_DATA)
                + " came back from a replayed record: a stale entry");
        Await.until("the copy applied as a delete, fencing its version", Duration.ofSeconds(30),
                () -> redis.exists(RedisLayout.fenceKey(key)) == 1);
    }

    private static double replayed(PipelineFixture f) {
        return f.registry.find(RegionMeterNames.REPLAYED_UPSERTS).tags("region", REGION).counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    /** The upsert record of {@code key} with payload {@code payload} on the watched topic. */
    private static ConsumerRecord<String, byte[]> upsertOf(KafkaConsumer<String, byte[]> watch, String key, String payload)
            throws InterruptedException {
        ConsumerRecord<String, byte[]>[] found = new ConsumerRecord[1];
        Await.until("the upsert of " + key + " on the region topic", Duration.ofSeconds(90), () -> {
            for (ConsumerRecord<String, byte[]> r : watch.poll(Duration.ofMillis(200))) {
                if (key.equals(r.key())) {
                    InvalidationEvent e = EventJson.readInvalidation(r.value());
                    if (e.action() == Action.UPSERT && payload.equals(e.payload())) {
                        found[0] = r;
                        return true;
                    }
                }
            }
            return false;
        });
        return found[0];
    }

    private static long currentLsn(PipelineFixture f) throws Exception {
        io.lethe.embedded.PostgresEndpoint pg = f.stack.postgres();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(f.scope.database()), pg.user(), pg.password());
                java.sql.Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
