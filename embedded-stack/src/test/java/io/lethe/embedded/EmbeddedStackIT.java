package io.lethe.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LetheStackExtension.class)
class EmbeddedStackIT {

    @Test
    void postgresIsReadyForLogicalReplicationWithSynchronousCommit(LetheStack stack, TestScope scope) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        assertEquals("127.0.0.1", pg.host());
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            assertEquals("logical", show(s, "wal_level"));
            assertEquals("on", show(s, "synchronous_commit"));
            assertTrue(Integer.parseInt(show(s, "max_replication_slots")) >= 16);
            assertEquals("127.0.0.1", show(s, "listen_addresses"));
            s.execute("CREATE TABLE t (id int primary key)");
            s.execute("SELECT pg_create_logical_replication_slot('" + scope.slot() + "', 'pgoutput')");
            s.execute("SELECT pg_drop_replication_slot('" + scope.slot() + "')");
        }
    }

    private static String show(Statement s, String setting) throws Exception {
        try (ResultSet rs = s.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void kafkaAcceptsAndServesRecords(LetheStack stack, TestScope scope) throws Exception {
        String topic = scope.topicPrefix() + ".smoke";
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, "k", "sentinel")).get();
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, scope.id());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            String value = null;
            while (value == null && System.nanoTime() < deadline) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) {
                    value = records.iterator().next().value();
                }
            }
            assertEquals("sentinel", value);
        }
    }

    @Test
    void everyRegionHasItsOwnRedisBoundToLoopbackThatCanBePaused(LetheStack stack) {
        assertEquals(EmbeddedStack.DEFAULT_REGIONS, stack.regions());
        RedisClient client = RedisClient.create();
        try {
            for (String region : stack.regions()) {
                RedisURI uri = RedisURI.create(stack.redisUri(region));
                uri.setTimeout(Duration.ofMillis(500));
                try (StatefulRedisConnection<String, String> c = client.connect(uri)) {
                    assertEquals("PONG", c.sync().ping());
                    assertEquals("127.0.0.1", c.sync().configGet("bind").get("bind"));
                }
            }
            String region = stack.regions().get(1);
            RedisURI uri = RedisURI.create(stack.redisUri(region));
            uri.setTimeout(Duration.ofMillis(300));
            try (StatefulRedisConnection<String, String> c = client.connect(uri)) {
                stack.pauseRedis(region);
                try {
                    assertThrows(RedisCommandTimeoutException.class, () -> c.sync().ping());
                } finally {
                    stack.resumeRedis(region);
                }
                c.setTimeout(Duration.ofSeconds(5));
                assertEquals("PONG", c.sync().ping());
            }
        } finally {
            client.shutdown();
        }
    }

    @Test
    void redisClusterSpreadsSlotsOverThreeMasters(LetheStack stack, TestScope scope) {
        RedisClusterClient client = RedisClusterClient.create(stack.redisClusterUri());
        try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
            assertEquals(3, c.getPartitions().size());
            for (int i = 0; i < 50; i++) {
                c.sync().set(scope.key("k" + i), "v" + i);
            }
            for (int i = 0; i < 50; i++) {
                assertEquals("v" + i, c.sync().get(scope.key("k" + i)));
            }
        } finally {
            client.shutdown();
        }
    }

    @Test
    void replicaStreamsFromThePrimaryWithItsApplyDelay(LetheStack stack, TestScope scope) throws Exception {
        PostgresEndpoint replica = stack.replica(Duration.ofSeconds(1));
        PostgresEndpoint pg = stack.postgres();
        try (Connection primary = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
                Statement s = primary.createStatement()) {
            s.execute("CREATE TABLE marker (id int primary key, note text)");
            s.execute("INSERT INTO marker VALUES (1, 'sentinel')");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String seen = null;
        while (seen == null && System.nanoTime() < deadline) {
            try (Connection c = DriverManager.getConnection(replica.jdbcUrl(scope.database()), replica.user(), replica.password());
                    Statement s = c.createStatement()) {
                assertEquals("on", show(s, "transaction_read_only"));
                try (ResultSet rs = s.executeQuery("SELECT note FROM marker WHERE id = 1")) {
                    seen = rs.next() ? rs.getString(1) : null;
                }
            } catch (java.sql.SQLException notYet) {
                // the database or table has not been replayed yet
            }
        }
        assertEquals("sentinel", seen);
    }
}
