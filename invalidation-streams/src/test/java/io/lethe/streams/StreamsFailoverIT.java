package io.lethe.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.embedded.ChildJvm;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two instances of invalidation-streams, each in its own JVM, share the input partitions; one is
 * killed (SIGKILL) mid-stream. Every change still yields its invalidations in every subscribed
 * region, and none reach a region that does not subscribe.
 */
@ExtendWith(LetheStackExtension.class)
class StreamsFailoverIT {
    private static final int CHANGES = 3000;
    private static final int PARTITIONS = 4;

    @Test
    void killingOneInstanceLosesNoInvalidation(LetheStack stack, TestScope scope, @org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        String yaml = """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "%s", topic-prefix: %s, partitions: %d }
                streams: { application-id: %s-streams }
                regions:
                  us-east: { redis: "redis://127.0.0.1:1" }
                  eu-west: { redis: "redis://127.0.0.1:1", namespaces: [product] }
                  ap-tokyo: { redis: "redis://127.0.0.1:1", namespaces: [orders] }
                namespaces:
                  product: { table: public.products, keys: ["product:{id}"] }
                  orders: { table: public.orders, keys: ["order:{id}"] }
                """.formatted(stack.kafkaBootstrapServers(), scope.topicPrefix(), PARTITIONS, scope.id());
        Path file = dir.resolve("lethe.yml");
        Files.writeString(file, yaml);
        LetheConfig config = ConfigLoader.load(file);
        TopicSetup.ensure(config, io.lethe.config.KafkaRole.CLI, TopicSetup.pipelineTopics(config), Duration.ofSeconds(30));

        List<String> jvm = List.of("-Xmx256m", "-XX:TieredStopAtLevel=1");
        try (ChildJvm a = ChildJvm.start("streams-a", StreamsProcessMain.class.getName(), List.of(file.toString(), "a"), jvm,
                dir.resolve("a.log"));
                ChildJvm b = ChildJvm.start("streams-b", StreamsProcessMain.class.getName(), List.of(file.toString(), "b"), jvm,
                        dir.resolve("b.log"));
                KafkaProducer<String, byte[]> producer = producer(stack)) {
            // both instances in the group and processing, so the kill below hits one of two
            a.awaitOutput("STREAMS-RUNNING", Duration.ofSeconds(120));
            b.awaitOutput("STREAMS-RUNNING", Duration.ofSeconds(120));
            SourceTable products = new SourceTable("shop", "public", "products");
            for (int i = 1; i <= CHANGES; i++) {
                long lsn = 1000L + i;
                ChangeEvent e = new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(lsn, products), products, Op.UPDATE,
                        Map.of("id", i), null, Map.of("id", i), Long.toString(lsn), lsn, (long) i, 1, 2, null, null);
                producer.send(new ProducerRecord<>(config.topics().changes(), e.recordKey(), EventJson.write(e)));
                if (i == CHANGES / 3) {
                    producer.flush();
                    awaitCount(stack, config.topics().invalidations("us-east"), 100, Duration.ofSeconds(120));
                    a.kill(); // mid-stream, with records in flight and offsets uncommitted
                }
                if (i % 100 == 0) {
                    Thread.sleep(5); // a steady stream rather than one burst
                }
            }
            producer.flush();

            Set<String> expected = new HashSet<>();
            for (int i = 1; i <= CHANGES; i++) {
                expected.add("product:" + i);
            }
            for (String region : List.of("us-east", "eu-west")) {
                Set<String> seen = keysUntil(stack, config.topics().invalidations(region), expected, Duration.ofSeconds(180));
                Set<String> missing = new java.util.TreeSet<>(expected);
                missing.removeAll(seen);
                Set<String> extra = new java.util.TreeSet<>(seen);
                extra.removeAll(expected);
                assertTrue(missing.isEmpty() && extra.isEmpty(), () -> region + ": " + missing.size() + " keys missing "
                        + missing.stream().limit(20).toList() + ", extra " + extra + "; survivor alive=" + b.isAlive()
                        + "\n--- survivor's log ---\n" + b.tail(80) + "\n--- killed instance's log ---\n" + a.tail(30));
            }
            assertTrue(b.isAlive(), "the surviving instance still runs:\n" + b.tail(30));

            // ap-tokyo subscribes only to orders: one orders change per partition as sentinels,
            // then everything ap-tokyo received must be exactly those sentinels.
            SourceTable orders = new SourceTable("shop", "public", "orders");
            Set<String> sentinels = new HashSet<>();
            for (int id = 1; sentinels.size() < PARTITIONS; id++) {
                String key = "order:" + id;
                int partition = Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
                if (sentinels.stream().noneMatch(s -> partitionOf(s) == partition)) {
                    sentinels.add(key);
                    long lsn = 100_000L + id;
                    ChangeEvent e = new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(lsn, orders), orders, Op.CREATE,
                            Map.of("id", id), null, Map.of("id", id), Long.toString(lsn), lsn, 1L, 1, 2, null, null);
                    producer.send(new ProducerRecord<>(config.topics().changes(), e.recordKey(), EventJson.write(e)));
                }
            }
            producer.flush();
            assertEquals(sentinels, keysUntil(stack, config.topics().invalidations("ap-tokyo"), sentinels, Duration.ofSeconds(60)),
                    "ap-tokyo received nothing but the orders sentinels");
        }
    }

    private static int partitionOf(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
    }

    private static KafkaProducer<String, byte[]> producer(LetheStack stack) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    private static KafkaConsumer<String, byte[]> reader(LetheStack stack, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        c.subscribe(List.of(topic));
        return c;
    }

    private static void awaitCount(LetheStack stack, String topic, int count, Duration timeout) {
        try (KafkaConsumer<String, byte[]> c = reader(stack, topic)) {
            int seen = 0;
            long deadline = System.nanoTime() + timeout.toNanos();
            while (seen < count) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("only " + seen + " records on " + topic + " after " + timeout);
                }
                seen += c.poll(Duration.ofMillis(200)).count();
            }
        }
    }

    /** Every distinct target on {@code topic}, read until {@code expected} are all present. */
    private static Set<String> keysUntil(LetheStack stack, String topic, Set<String> expected, Duration timeout) {
        Set<String> seen = new HashSet<>();
        try (KafkaConsumer<String, byte[]> c = reader(stack, topic)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!seen.containsAll(expected) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    seen.add(EventJson.readInvalidation(r.value()).target());
                }
            }
            // drain what is already there, so an unexpected extra record shows up too
            for (int empty = 0; empty < 3;) {
                var records = c.poll(Duration.ofMillis(200));
                empty = records.isEmpty() ? empty + 1 : 0;
                records.forEach(r -> seen.add(EventJson.readInvalidation(r.value()).target()));
            }
        }
        return seen;
    }
}
