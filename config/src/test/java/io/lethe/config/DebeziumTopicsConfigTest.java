package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code source.mode: debezium-topics}: its settings, defaults, and what it refuses with the path and why. */
class DebeziumTopicsConfigTest {
    private static String yaml(String sourceExtra, String regionExtra) {
        return """
                source:
                  jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop"
                  user: lethe
                %s
                kafka: { bootstrap-servers: "127.0.0.1:9092", topic-prefix: shop }
                regions: { us-east: { redis: "redis://127.0.0.1:6379" %s } }
                namespaces:
                  item: { table: public.items, keys: ["item:{id}"] }
                """.formatted(sourceExtra.indent(2), regionExtra);
    }

    private static LetheConfig parse(String yaml) {
        return ConfigLoader.parse("t.yml", yaml, name -> null);
    }

    private static Map<String, String> errors(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        Map<String, String> byPath = new LinkedHashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        return byPath;
    }

    @Test
    void captureIsTheDefault() {
        assertFalse(parse(yaml("", "")).source().readsDebeziumTopics());
    }

    @Test
    void theConnectorsTopicsWithTheirDefaults() {
        DebeziumTopicsConfig t = parse(yaml("mode: debezium-topics\ndebezium-topics: { topic-prefix: dbz }", "")).source().debeziumTopics();
        assertEquals("dbz.public.items", t.topicOf("public.items"));
        assertTrue(t.schemas());
        assertEquals("__debezium_unavailable_value", t.unavailablePlaceholder());
        assertEquals("__debezium-heartbeat.dbz", t.heartbeatTopic());
        assertFalse(t.transactionMetadata());
        assertEquals("dbz.transaction", t.transactionTopic());
    }

    @Test
    void theReplicaGateWithTheConnectorsTransactionMetadata() {
        LetheConfig config = parse(yaml("mode: debezium-topics\ndebezium-topics: { topic-prefix: dbz, transaction-metadata: true }",
                ", replica: \"jdbc:postgresql://127.0.0.1:5433/shop\""));
        assertTrue(config.regions().get("us-east").hasReplicaGate());
        assertEquals("dbz.transaction", config.source().debeziumTopics().transactionTopic());
        // capture's grant of the transaction topic: stage's DebeziumTopicsGrantsTest
    }

    @Test
    void whatTheModeCannotDoIsRefusedWithThePath() {
        Map<String, String> e = errors(yaml("mode: debezium-topics\ndebezium-topics: { transaction-topic: dbz.transaction }",
                ", replica: \"jdbc:postgresql://127.0.0.1:5433/shop\""));
        assertTrue(e.get("source.debezium-topics.topic-prefix").contains("topic.prefix"), e.toString());
        assertTrue(e.get("source.debezium-topics.transaction-topic").contains("only read with transaction-metadata: true"), e.toString());
        assertTrue(e.get("regions.us-east.replica").contains("commit LSN"), e.toString());
        assertTrue(errors(yaml("mode: debezium\n", "")).get("source.mode").contains("capture or debezium-topics"));
        assertTrue(errors(yaml("mode: debezium-topics\n", "")).get("source.debezium-topics").contains("required"));
        assertTrue(errors(yaml("debezium-topics: { topic-prefix: dbz }", "")).get("source.debezium-topics").contains("only read with"));
    }
}
