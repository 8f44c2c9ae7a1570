package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.topics.DebeziumTopicsSource;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Versions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code source.mode: debezium-topics}: the connector decodes no change for DDL that changes what
 * rows hold (a table rewrite, a catalog change) any more than capture does. The translator
 * watches the configured tables while it runs and resets their namespaces (wholesale, this
 * mode's reset) when such DDL is found, and leaves alone a table whose values did not change.
 * It keeps the state it relies on in Kafka, so DDL while no translator runs is found by the next
 * one, and a restart alone resets nothing. No connector runs here: the watch does not wait for one.
 */
@ExtendWith(LetheStackExtension.class)
class DebeziumTopicsDdlIT {
    private static final String NAMESPACES = """
            product: { table: public.products, keys: ["product:{id}"] }
            marker: { table: public.markers, keys: ["marker:{id}"] }
            """;

    private static List<ChangeEvent> resets(List<ChangeEvent> events, String namespace) {
        return events.stream().filter(e -> e.op() == Op.RESET && namespace.equals(e.namespace())).toList();
    }

    /** Resets are published to every partition: one reset is one id. */
    private static Set<String> resetIds(List<ChangeEvent> events, String namespace) {
        return resets(events, namespace).stream().map(ChangeEvent::id).collect(Collectors.toSet());
    }

    @Test
    void ddlThatChangesValuesResetsTheTablesNamespacesWhileTheTranslatorRunsAndWhileNoneRuns(LetheStack stack, TestScope scope)
            throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price numeric(10,2))", "CREATE TABLE markers (id int PRIMARY KEY, n int)",
                "INSERT INTO products VALUES (1, 1.25)");
        LetheConfig config = f.config(NAMESPACES, stack.postgres().user(),
                "mode: debezium-topics\n  debezium-topics: { topic-prefix: " + scope.id() + "-dbz }");
        try (DebeziumTopicsSource source = new DebeziumTopicsSource(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            source.start();
            // every price is rounded to one decimal by the rewrite: no change is decoded by any connector
            f.sql("ALTER TABLE products ALTER COLUMN price TYPE numeric(10,1)");
            List<ChangeEvent> events = f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()),
                    Duration.ofSeconds(60));
            assertEquals(Versions.MAX, resets(events, "product").get(0).version(), "this mode's resets delete whatever is there");
            assertTrue(resets(events, "marker").isEmpty(), "markers lost nothing: " + events);

            // DDL that changes no value, then a sentinel: the markers' own DDL
            f.sql("ALTER TABLE products ADD COLUMN note text", "ALTER TABLE markers ALTER COLUMN n TYPE bigint");
            events = f.readChangesUntil(e -> e.op() == Op.RESET && "marker".equals(e.namespace()), Duration.ofSeconds(60));
            assertEquals(1, resetIds(events, "product").size(), "a column added changed no value: " + events);

            // the same type, new values
            f.sql("ALTER TABLE products ALTER COLUMN price TYPE numeric(10,1) USING price + 1");
            Set<String> ids = new HashSet<>();
            f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && ids.add(e.id()) && ids.size() == 2,
                    Duration.ofSeconds(60));
        }
        // DDL while no translator runs: the next one compares the tables with the state the last one kept
        f.sql("ALTER TABLE markers ALTER COLUMN n TYPE bigint USING n + 1");
        try (DebeziumTopicsSource source = new DebeziumTopicsSource(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            source.start();
            Set<String> markers = new HashSet<>();
            List<ChangeEvent> events = f.readChangesUntil(
                    e -> e.op() == Op.RESET && "marker".equals(e.namespace()) && markers.add(e.id()) && markers.size() == 2,
                    Duration.ofSeconds(60));
            assertEquals(2, resetIds(events, "product").size(), "products changed no value while the translator was down: " + events);
        }
        // a restart without DDL resets nothing: the markers' own DDL is the sentinel
        try (DebeziumTopicsSource source = new DebeziumTopicsSource(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            source.start();
            f.sql("ALTER TABLE markers ALTER COLUMN n TYPE int");
            Set<String> markers = new HashSet<>();
            List<ChangeEvent> events = f.readChangesUntil(
                    e -> e.op() == Op.RESET && "marker".equals(e.namespace()) && markers.add(e.id()) && markers.size() == 3,
                    Duration.ofSeconds(60));
            assertEquals(2, resetIds(events, "product").size(), "a restart changed no value: " + events);
        }
        // the kept state says another history (as after a failover to an asynchronous standby, or a restore): versions
        // cached then cannot be compared with the source's now, so every namespace resets
        forgeKeptHistory(stack, config);
        try (DebeziumTopicsSource source = new DebeziumTopicsSource(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            source.start();
            Set<String> products = new HashSet<>();
            List<ChangeEvent> events = f.readChangesUntil(
                    e -> e.op() == Op.RESET && "product".equals(e.namespace()) && products.add(e.id()) && products.size() == 3,
                    Duration.ofSeconds(60));
            assertEquals(4, resetIds(events, "marker").size(), "markers reset with the history: " + events);
        }
    }

    /** Rewrites the table watch's kept record with the history of another cluster. */
    private static void forgeKeptHistory(LetheStack stack, LetheConfig config) throws Exception {
        String topic = config.topics().captureOffsets();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        ConsumerRecord<byte[], byte[]> kept = null;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (new String(r.key(), StandardCharsets.UTF_8).contains("lethe-table-watch")) {
                        kept = r;
                    }
                }
            }
        }
        assertTrue(kept != null, "the translator kept its state in " + topic);
        ObjectNode value = (ObjectNode) new ObjectMapper().readTree(kept.value());
        assertTrue(value.path("history").isTextual(), "the kept state names its history: " + value);
        value.put("history", "1/1");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, 0, kept.key(), value.toString().getBytes(StandardCharsets.UTF_8))).get();
        }
    }

    @Test
    void truncatesAndTheConnectorsPublicationAreWatched(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price numeric(10,2))", "CREATE TABLE markers (id int PRIMARY KEY, n int)",
                "INSERT INTO products VALUES (1, 1.25)");
        LetheConfig config = f.config(NAMESPACES, stack.postgres().user(),
                "mode: debezium-topics\n  debezium-topics: { topic-prefix: " + scope.id() + "-dbz }");
        String pub = config.source().publication(); // the connector's publication.name
        f.sql("CREATE PUBLICATION " + pub + " FOR TABLE products, markers");
        String slot = config.source().slot(); // the connector's slot.name
        f.sql("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DebeziumTopicsSource source = new DebeziumTopicsSource(config, registry, Clock.systemUTC())) {
            source.start();
            // Debezium skips TRUNCATE by default (skipped.operations=t): only the table's new storage shows one
            f.sql("TRUNCATE products");
            List<ChangeEvent> events = f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()),
                    Duration.ofSeconds(60));
            assertTrue(resets(events, "marker").isEmpty(), "markers lost nothing: " + events);

            // markers dropped from the connector's publication: none of their changes is decoded while they are out
            f.sql("ALTER PUBLICATION " + pub + " DROP TABLE markers");
            f.readChangesUntil(e -> e.op() == Op.RESET && "marker".equals(e.namespace()), Duration.ofSeconds(60));
            Await.until("the translator to say the tables hide changes", Duration.ofSeconds(30), source::tablesHideChanges);
            // and added back: what changed while they were out is unknown, once more (a drift of its own, not the reset
            // repeated while they were out)
            f.sql("ALTER PUBLICATION " + pub + " ADD TABLE markers");
            Await.until("the condition to end once markers are back", Duration.ofSeconds(30), () -> !source.tablesHideChanges());
            Await.until("the membership drift of markers added back", Duration.ofSeconds(30), () -> drifts(registry, "membership") >= 3);

            // the publication dropped: hidden for as long as it is gone; made again: a drift of its own
            double dropped = drifts(registry, "publication");
            f.sql("DROP PUBLICATION " + pub);
            Await.until("the drop, counted", Duration.ofSeconds(30), () -> drifts(registry, "publication") > dropped);
            assertTrue(source.tablesHideChanges(), "no change is decoded while the publication is gone");
            // a later check while it is gone: the reset repeated every 10 s while changes are hidden
            Set<String> seen = resetIds(f.readChangesUntil(e -> true, Duration.ofSeconds(60)), "product");
            f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && !seen.contains(e.id()),
                    Duration.ofSeconds(60));
            assertTrue(source.tablesHideChanges(), "still hidden while the publication is gone");
            double made = drifts(registry, "publication");
            f.sql("CREATE PUBLICATION " + pub + " FOR TABLE products, markers");
            Await.until("the condition to end once the publication is back", Duration.ofSeconds(30), () -> !source.tablesHideChanges());
            Await.until("the publication made again, counted", Duration.ofSeconds(30), () -> drifts(registry, "publication") > made);

            // the connector's slot gone: nothing is decoded; made again, it starts past the gap: every namespace resets
            double slots = drifts(registry, "slot");
            f.sql("SELECT pg_drop_replication_slot('" + slot + "')");
            Await.until("the translator to say the tables hide changes", Duration.ofSeconds(30), source::tablesHideChanges);
            f.sql("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
            Await.until("the condition to end once the slot is back", Duration.ofSeconds(30), () -> !source.tablesHideChanges());
            Await.until("the slot gone and back, counted", Duration.ofSeconds(30), () -> drifts(registry, "slot") >= slots + 2);
        } finally {
            f.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
        }
    }

    private static double drifts(SimpleMeterRegistry registry, String kind) {
        return registry.get(CaptureMetrics.SOURCE_DRIFT).tag("kind", kind).counter().count();
    }
}
