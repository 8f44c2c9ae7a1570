package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.serde.EventJson;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 34, personal data: through the whole pipeline, a namespace kept off the public topic never
 * reaches it and an upsert namespace with public-payloads: false reaches it as deletes, while both
 * regions (subscribed to everything, so now on their own topics) still apply every change, payloads
 * included.
 */
@ExtendWith(LetheStackExtension.class)
class PublicTopicPrivacyIT {
    private static final List<String> REGIONS = List.of("us-east", "eu-west");

    @Test
    void thePublicTopicCarriesNeitherTheHiddenNamespaceNorUpsertPayloads(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "CREATE TABLE profiles (id int PRIMARY KEY, email text)");
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(REGIONS, """
                    price:
                      table: public.products
                      keys: ["%sprice:{id}"]
                      mode: upsert
                      payload-columns: [price]
                      public-payloads: false
                    profile:
                      table: public.profiles
                      keys: ["%sprofile:{id}"]
                      public-topic: false
                    """.formatted(p, p), ""));
            for (String region : REGIONS) {
                // the public topic is incomplete: both (subscribed to everything) share their subscription set's topic
                assertEquals(config.topics().invalidations(REGIONS.get(0)), config.topics().invalidations(region));
                assertTrue(config.topics().invalidations(region).startsWith(config.kafka().topicPrefix() + ".invalidations.subs-"),
                        config.topics().invalidations(region));
            }
            f.start(config);

            f.sql("INSERT INTO profiles VALUES (1, 'ada@example.com')");
            f.sql("INSERT INTO products VALUES (1, 10)");
            for (String region : REGIONS) {
                RedisCommands<String, String> r = f.redis(region);
                Await.until("both changes applied in " + region, Duration.ofSeconds(60),
                        () -> r.exists(RedisLayout.fenceKey(p + "profile:1")) == 1 && r.exists(p + "price:1") == 1);
                assertEquals("{\"price\":10}", r.hget(p + "price:1", RedisLayout.ENTRY_DATA), region + " gets the payload");
            }

            Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "public-topic-privacy-it");
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            List<InvalidationEvent> published = new ArrayList<>();
            try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                    new ByteArrayDeserializer())) {
                List<TopicPartition> partitions = consumer.partitionsFor(config.topics().invalidations()).stream()
                        .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                // the sentinel: the price change (committed after the profile one) on the public topic
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (published.stream().noneMatch(e -> e.target().equals(p + "price:1"))) {
                    assertTrue(System.nanoTime() < deadline, "the price change never reached the public topic");
                    for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                        if (!Watermark.isWatermark(rec.key())) {
                            published.add(cloudEvent(rec, config));
                        }
                    }
                }
                Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
                while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                    for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(200))) {
                        if (!Watermark.isWatermark(rec.key())) {
                            published.add(cloudEvent(rec, config));
                        }
                    }
                }
            }
            assertTrue(published.stream().noneMatch(e -> e.namespace().equals("profile")), "profile is off the public topic: " + published);
            InvalidationEvent price = published.stream().filter(e -> e.target().equals(p + "price:1")).findFirst().orElseThrow();
            assertEquals(Action.DELETE, price.action(), "subscribers get the invalidation, not the row");
            assertTrue(published.stream().allMatch(e -> e.payload() == null), "no payload on the public topic: " + published);
        }
    }

    /**
     * A public-topic record, checked for CloudEvents' binary-mode headers (additive: the value is
     * Lethe's JSON event, which they describe): specversion, id, source, type, the commit time, the key as subject.
     */
    private static InvalidationEvent cloudEvent(ConsumerRecord<String, byte[]> rec, io.lethe.config.LetheConfig config) {
        InvalidationEvent e = EventJson.readInvalidation(rec.value());
        java.util.function.Function<String, String> h = name -> {
            org.apache.kafka.common.header.Header header = rec.headers().lastHeader(name);
            assertTrue(header != null, rec.key() + " carries " + name);
            return new String(header.value(), java.nio.charset.StandardCharsets.UTF_8);
        };
        assertEquals("1.0", h.apply("ce_specversion"));
        assertEquals(e.id(), h.apply("ce_id"));
        assertEquals("/lethe/" + config.kafka().topicPrefix(), h.apply("ce_source"));
        assertEquals("io.lethe.invalidation.v1", h.apply("ce_type"));
        assertEquals(e.commitTs(),
                java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH, java.time.Instant.parse(h.apply("ce_time"))));
        assertEquals(rec.key(), h.apply("ce_subject"));
        assertEquals("application/json", h.apply("content-type"));
        return e;
    }
}
