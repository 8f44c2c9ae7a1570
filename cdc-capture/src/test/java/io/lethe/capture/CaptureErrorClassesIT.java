package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Headers;
import io.lethe.schemas.Op;
import io.lethe.stage.dlq.DeadLetter;
import io.lethe.stage.health.Misconfiguration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Capture's error classes on real servers: Kafka away (retriable: capture waits, nothing is
 * lost), a change larger than Kafka takes (poison: its table's namespaces are reset instead and
 * the change is dead-lettered, capture goes on), and an ACL denying the changes topic
 * (configuration: health DOWN, {@link Misconfiguration#METRIC} 1, and publishing resumes by
 * itself once the ACL is fixed).
 */
@ExtendWith(LetheStackExtension.class)
class CaptureErrorClassesIT {

    @Test
    void whileKafkaIsAwayCaptureWaitsAndPublishesEverythingAfterwards(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE items (id int PRIMARY KEY, body text)");
        LetheConfig config = f.config("item: { table: public.items, keys: [\"item:{id}\"] }");
        EmbeddedStack embedded = (EmbeddedStack) stack;
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            embedded.stopKafka();
            try {
                f.sql("INSERT INTO items SELECT i, 'during' FROM generate_series(1, 50) i");
            } finally {
                embedded.startKafka();
            }
            f.sql("INSERT INTO items VALUES (51, 'sentinel')");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("items", 51), Duration.ofSeconds(120));
            for (int id = 1; id <= 50; id++) {
                int row = id;
                assertTrue(events.stream().anyMatch(CaptureFixture.row("items", row)), "row " + id + " written while Kafka was away");
            }
            assertFalse(capture.isStopped());
        }
    }

    @Test
    void aChangeTooLargeForKafkaResetsItsTableAndIsDeadLettered(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE docs (id int PRIMARY KEY, body text)");
        LetheConfig config = f.config("doc: { table: public.docs, keys: [\"doc:{id}\"], mode: upsert, payload-columns: [body] }");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
            capture.start();
            long sent = System.nanoTime();
            // 2 MB of text that does not compress away in the change's JSON: over Kafka's 1 MiB
            f.sql("INSERT INTO docs SELECT 1, string_agg(md5(i::text), '') FROM generate_series(1, 65536) i");
            f.sql("INSERT INTO docs VALUES (2, 'sentinel')");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("docs", 2), Duration.ofSeconds(60));
            assertTrue(events.stream().anyMatch(e -> e.op() == Op.RESET && e.namespace().equals("doc")),
                    "the namespace of the table is reset in the change's place: " + events);
            assertFalse(events.stream().anyMatch(CaptureFixture.row("docs", 1)), "the change itself cannot be in Kafka");
            List<ConsumerRecord<String, byte[]>> dead = deadLetters(stack, config.topics().dlq(), 1, Duration.ofSeconds(30));
            assertTrue(System.nanoTime() - sent < Duration.ofSeconds(30).toNanos());
            assertEquals(1, dead.size());
            ConsumerRecord<String, byte[]> letter = dead.get(0);
            assertEquals("record-too-large", header(letter, Headers.DLQ_REASON));
            assertEquals("capture", header(letter, Headers.DLQ_STAGE));
            assertTrue(Integer.parseInt(header(letter, Headers.DLQ_TRUNCATED)) > 2_000_000, header(letter, Headers.DLQ_TRUNCATED));
            assertEquals(DeadLetter.MAX_VALUE_BYTES, letter.value().length, "the DLQ keeps the change's first part");
            assertTrue(new String(letter.value(), 0, 200, StandardCharsets.UTF_8).contains("\"schema\""), "the change's own JSON");
            assertFalse(capture.isStopped());
            assertEquals(1.0, registry.get(CaptureMetrics.ERRORS).tag("kind", "record-too-large").counter().count());
        }
    }

    @Test
    void anAclDenyingTheChangesTopicTurnsHealthDownUntilItIsFixed(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE orders (id int PRIMARY KEY, total int)");
        LetheStack.KafkaSasl sasl = stack.kafkaSasl();
        StringBuilder props = new StringBuilder();
        sasl.clientProperties().forEach((k, v) -> props.append("    ").append(k).append(": '").append(v).append("'\n"));
        String yaml = f.yaml("order: { table: public.orders, keys: [\"order:{id}\"] }", stack.postgres().user())
                .replace("  bootstrap-servers: " + stack.kafkaBootstrapServers(), "  bootstrap-servers: " + sasl.bootstrapServers()
                        + "\n  properties:\n" + props);
        LetheConfig config = ConfigLoader.parse("test-lethe.yml", yaml, System::getenv);
        String changes = config.topics().changes();
        String user = "User:" + sasl.user();
        AclBinding deny = new AclBinding(new ResourcePattern(ResourceType.TOPIC, changes, PatternType.LITERAL),
                new AccessControlEntry(user, "*", AclOperation.WRITE, AclPermissionType.DENY));
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            admin.createAcls(List.of(
                    allow(user, ResourceType.TOPIC, scope.topicPrefix()),
                    allow(user, ResourceType.GROUP, scope.topicPrefix()),
                    allow(user, ResourceType.GROUP, "lethe"),
                    new AclBinding(new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
                            new AccessControlEntry(user, "*", AclOperation.ALL, AclPermissionType.ALLOW))))
                    .all().get();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
                capture.start();
                assertTrue(capture.isStreaming());
                admin.createAcls(List.of(deny)).all().get();
                f.sql("INSERT INTO orders VALUES (1, 10)");
                await("the configuration error reported", Duration.ofSeconds(60), () -> capture.misconfigured().isPresent());
                assertEquals("authorization", capture.misconfigured().get().reason());
                assertFalse(capture.isStreaming(), "health is DOWN");
                assertEquals(1.0, registry.get(Misconfiguration.METRIC).tag("stage", "capture").gauge().value());

                admin.deleteAcls(List.of(deny.toFilter())).all().get();
                f.sql("INSERT INTO orders VALUES (2, 20)");
                List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("orders", 2), Duration.ofSeconds(60));
                assertTrue(events.stream().anyMatch(CaptureFixture.row("orders", 1)), "the change held back while denied is published");
                await("health back", Duration.ofSeconds(30), () -> capture.misconfigured().isEmpty() && capture.isStreaming());
                assertEquals(0.0, registry.get(Misconfiguration.METRIC).tag("stage", "capture").gauge().value());
            } finally {
                admin.deleteAcls(List.of(new AclBindingFilter(
                        ResourcePatternFilter.ANY,
                        new AccessControlEntryFilter(user, null, AclOperation.ANY, AclPermissionType.ANY)))).all().get();
            }
        }
    }

    private static AclBinding allow(String user, ResourceType type, String prefix) {
        return new AclBinding(new ResourcePattern(type, prefix, PatternType.PREFIXED),
                new AccessControlEntry(user, "*", AclOperation.ALL, AclPermissionType.ALLOW));
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        var h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static List<ConsumerRecord<String, byte[]>> deadLetters(LetheStack stack, String topic, int count, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < count && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
