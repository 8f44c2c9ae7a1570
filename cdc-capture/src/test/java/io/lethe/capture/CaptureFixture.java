package io.lethe.capture;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
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
import org.apache.kafka.common.TopicPartition;
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
        return ConfigLoader.parse("test-lethe.yml", yaml(namespacesYaml, user), System::getenv);
    }

    /** The config with one more setting under {@code source:} (e.g. {@code create-publication: false}). */
    LetheConfig config(String namespacesYaml, String user, String sourceSetting) {
        String yaml = yaml(namespacesYaml, user).replace("  heartbeat-interval: 500ms\n",
                "  heartbeat-interval: 500ms\n  " + sourceSetting + "\n");
        return ConfigLoader.parse("test-lethe.yml", yaml, System::getenv);
    }

    String yaml(String namespacesYaml, String user) {
        PostgresEndpoint pg = stack.postgres();
        return """
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

    /** The slot's confirmed_flush_lsn as a number, or -1 when the slot does not exist. */
    long confirmedFlushLsn() throws SQLException {
        try (Connection c = connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(confirmed_flush_lsn, '0/0')::bigint FROM pg_replication_slots "
                        + "WHERE slot_name = '" + scope.slot() + "'")) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    long currentLsn() throws SQLException {
        try (Connection c = connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Reads lethe.changes from the beginning until {@code until} has seen a matching event (the
     * sentinel), then on to the end of every partition: capture publishes in commit order and
     * waits for each acknowledgement, so everything committed before the sentinel is there.
     */
    List<ChangeEvent> readChangesUntil(Predicate<ChangeEvent> until, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ChangeEvent> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            String topic = scope.topicPrefix() + ".changes";
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            Map<TopicPartition, Long> end = null;
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (Watermark.isWatermark(r.key())) {
                        continue; // the heartbeats' watermarks (see Watermark)
                    }
                    ChangeEvent e = EventJson.readChange(r.value());
                    events.add(e);
                    if (end == null && until.test(e)) {
                        end = consumer.endOffsets(partitions);
                    }
                }
                if (end != null && end.entrySet().stream().allMatch(x -> consumer.position(x.getKey()) >= x.getValue())) {
                    return events;
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
