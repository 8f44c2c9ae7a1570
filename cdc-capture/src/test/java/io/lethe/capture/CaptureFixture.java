package io.lethe.capture;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.serde.EventJson;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Config, SQL and topic reading for capture's integration tests. */
final class CaptureFixture {
    final LetheStack stack;
    final TestScope scope;

    CaptureFixture(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
    }

    LetheConfig config(String namespacesYaml) {
        return config(namespacesYaml, stack.postgres().user());
    }

    LetheConfig config(String namespacesYaml, String user) {
        PostgresEndpoint pg = stack.postgres();
        String yaml = """
                source:
                  jdbc-url: %s
                  user: %s
                  slot: %s
                  publication: %s
                  heartbeat-interval: 500ms
                kafka:
                  bootstrap-servers: %s
                  topic-prefix: %s
                regions:
                  us-east: { redis: %s }
                namespaces:
                %s
                """.formatted(pg.jdbcUrl(scope.database()), user, scope.slot(), scope.publication(),
                stack.kafkaBootstrapServers(), scope.topicPrefix(), stack.redisUri("us-east"),
                namespacesYaml.indent(2));
        return ConfigLoader.parse("test-lethe.yml", yaml, System::getenv);
    }

    void sql(String... statements) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String statement : statements) {
                s.execute(statement);
            }
        }
    }

    Connection connect() throws SQLException {
        PostgresEndpoint pg = stack.postgres();
        return DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
    }

    void dropSlot() throws SQLException {
        sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + scope.slot() + "'");
    }

    /** Reads lethe.changes from the beginning until {@code until} has seen a matching event (the sentinel). */
    List<ChangeEvent> readChangesUntil(Predicate<ChangeEvent> until, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ChangeEvent> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(scope.topicPrefix() + ".changes"));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    ChangeEvent e = EventJson.readChange(r.value());
                    events.add(e);
                    if (until.test(e)) {
                        return events;
                    }
                }
            }
        }
        throw new AssertionError("sentinel not seen on " + scope.topicPrefix() + ".changes within " + timeout
                + "; saw " + events.size() + " events");
    }

    static Predicate<ChangeEvent> row(String table, Object id) {
        return e -> e.source().table().equals(table) && e.key() != null && String.valueOf(e.key().get("id")).equals(String.valueOf(id));
    }

    static Map<String, Object> after(ChangeEvent e) {
        return e.after();
    }
}
