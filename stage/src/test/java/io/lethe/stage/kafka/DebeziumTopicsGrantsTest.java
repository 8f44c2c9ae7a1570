package io.lethe.stage.kafka;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import java.util.function.BiPredicate;
import org.apache.kafka.common.acl.AclOperation;
import org.junit.jupiter.api.Test;

/** {@code source.mode: debezium-topics}: what capture's principal is granted and where the table watch keeps its state. */
class DebeziumTopicsGrantsTest {
    private static LetheConfig parse(String sourceExtra) {
        return ConfigLoader.parse("t.yml", """
                source:
                  jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop"
                  user: lethe
                %s
                kafka: { bootstrap-servers: "127.0.0.1:9092", topic-prefix: shop }
                regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
                namespaces:
                  item: { table: public.items, keys: ["item:{id}"] }
                """.formatted(sourceExtra.indent(2)), name -> null);
    }

    @Test
    void capturesPrincipalReadsTheConnectorsTopicsAndKeepsTheTableWatchStateWhereCaptureKeepsOffsets() {
        LetheConfig config = parse("mode: debezium-topics\ndebezium-topics: { topic-prefix: dbz }");
        var bindings = KafkaAcls.bindings(config, KafkaRole.CAPTURE);
        BiPredicate<String, AclOperation> granted = (name, op) -> bindings.stream()
                .anyMatch(b -> b.pattern().name().equals(name) && b.entry().operation() == op);
        assertTrue(granted.test("dbz.public.items", AclOperation.READ), bindings.toString());
        assertTrue(granted.test("__debezium-heartbeat.dbz", AclOperation.READ), bindings.toString());
        assertTrue(granted.test("shop-debezium-topics", AclOperation.READ), "its group: " + bindings);
        // no Debezium of its own (no offsets to keep): the topic holds the table watch's state for the next translator
        assertTrue(granted.test(config.topics().captureOffsets(), AclOperation.READ), bindings.toString());
        assertTrue(granted.test(config.topics().captureOffsets(), AclOperation.WRITE), bindings.toString());
        assertFalse(granted.test(config.topics().captureOffsets(), AclOperation.DESCRIBE_CONFIGS),
                "Connect's check of the topic's configs is capture's only: " + bindings);
        assertTrue(TopicSpec.all(config).stream()
                .anyMatch(t -> t.name().equals(config.topics().captureOffsets()) && "compact".equals(t.configs().get("cleanup.policy"))),
                "the table watch's state is kept in a compacted topic");
    }

    @Test
    void withTheConnectorsTransactionMetadataCaptureReadsTheTransactionTopic() {
        LetheConfig config = parse("mode: debezium-topics\ndebezium-topics: { topic-prefix: dbz, transaction-metadata: true }");
        var bindings = KafkaAcls.bindings(config, KafkaRole.CAPTURE);
        assertTrue(bindings.stream().anyMatch(b -> b.pattern().name().equals("dbz.transaction")
                && b.entry().operation() == AclOperation.READ),
                "every change waits for its END: the transaction topic is read too " + bindings);
    }
}
