package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.schemas.Headers;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code source.mode: debezium-topics}: a Debezium PostgreSQL connector Lethe did not start
 * (Debezium Embedded with Kafka Connect's JsonConverter, writing the standard envelope to Kafka
 * topics on the embedded broker, as a Connect worker would) feeds Lethe, which runs no capture of
 * its own; updates, key-moving updates and deletes leave no stale entry in Redis, judged with keys
 * computed here from the rows, not by Lethe's code; a malformed envelope is dead-lettered with its
 * reason and its table's namespaces are reset.
 */
@ExtendWith(LetheStackExtension.class)
class DebeziumTopicsIT {
    private static final String REGION = "us-east";
    private static final int ROWS = 20;

    /**
     * @param transactions whether the connector writes transaction metadata and Lethe reads it: the changes
     *                     then carry their transaction's commit LSN
     * @param schemas      whether the connector's JsonConverter writes schemas; without them the name key's
     *                     text is unknown and its template's glob is invalidated
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "transaction metadata: {0}, schemas: {1}")
    @org.junit.jupiter.params.provider.CsvSource({"false,true", "true,true", "false,false"})
    void anExistingConnectorsTopicsFeedLetheAndLeaveNoStaleEntry(boolean transactions, boolean schemas, LetheStack stack, TestScope scope)
            throws Exception {
        String connectorPrefix = scope.id() + "-dbz";
        String itemsTopic = connectorPrefix + ".public.items";
        String heartbeatTopic = "__debezium-heartbeat." + connectorPrefix;
        String p = scope.keyPrefix();
        try (PipelineFixture f = new PipelineFixture(stack, scope);
                Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            f.sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price int NOT NULL)",
                    "ALTER TABLE items REPLICA IDENTITY FULL",
                    "INSERT INTO items SELECT g, 'n' || g, g * 10 FROM generate_series(0, " + ROWS + ") g");
            // the connector's topics, as a platform team's Connect cluster would have them (two partitions: no order across them)
            admin.createTopics(List.of(new NewTopic(itemsTopic, 2, (short) 1), new NewTopic(heartbeatTopic, 1, (short) 1),
                    new NewTopic(connectorPrefix + ".transaction", 1, (short) 1))).all().get();
            String yaml = f.yaml(List.of(REGION), """
                    item:
                      table: public.items
                      keys: ["%sitem:{id}", "%sitem:{id}:{name}"]
                    """.formatted(p, p), "").replaceFirst("source:\n", """
                    source:
                      mode: debezium-topics
                      debezium-topics:
                        topic-prefix: %s
                        transaction-metadata: %s
                        schemas: %s
                    """.formatted(connectorPrefix, transactions, schemas));
            // the regions' first feeds wait for watermarks, which come from the connector's heartbeats: awaited once it runs
            f.startFeeding(f.config(yaml), io.lethe.stage.trace.Tracing.OFF);
            assertTrue(f.registry.find("lethe.capture.debezium.records").counters().size() > 0, "the translator runs, not capture");

            try (Connector connector = new Connector(stack, scope, connectorPrefix, transactions, schemas)) {
                RedisCommands<String, String> r = f.redis(REGION);
                Await.until("the connector's slot, active", Duration.ofSeconds(60), () -> slotActive(f, scope.slot() + "_dbz"));
                // lethe doctor on this setup: what it can check of the connector, and what it says it cannot
                String doctorYaml = yaml.replace("slot: " + scope.slot() + "\n", "slot: " + scope.slot() + "_dbz\n")
                        .replace("publication: " + scope.publication() + "\n", "publication: " + scope.publication() + "_dbz\n");
                Map<String, io.lethe.capture.source.CheckResult> doctor = new HashMap<>();
                // the connector's walsender can be between two connections of its start-up: the doctor is asked again until
                // it sees the slot read (the assertion below still requires PASS)
                Await.until("lethe doctor to see the connector's slot read", Duration.ofSeconds(30), () -> {
                    doctor.clear();
                    new io.lethe.cli.doctor.Doctor(f.config(doctorYaml)).run().forEach(c -> doctor.put(c.check(), c));
                    return doctor.get("slot") != null && "PASS".equals(doctor.get("slot").status().name());
                });
                assertEquals("PASS", doctor.get("slot").status().name(), () -> "slot: " + doctor.get("slot"));
                assertEquals("PASS", doctor.get("publication").status().name(), () -> "publication: " + doctor.get("publication"));
                assertEquals("WARN", doctor.get("debezium connector").status().name(), "names what it cannot check");
                assertTrue(doctor.get("debezium connector").message().contains("skipped.operations"),
                        doctor.get("debezium connector").message());
                // the sentinel that the connector streams and Lethe translates: row 0's change fences its key
                // (cached first: without schemas the key's text is unknown and only the cached keys matching the glob are fenced)
                r.hset(p + "item:0", Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "n0|0"));
                f.sql("UPDATE items SET price = price + 1 WHERE id = 0");
                Await.until("the connector's first change through Lethe", Duration.ofSeconds(90),
                        () -> r.exists(RedisLayout.fenceKey(p + "item:0")) == 1);
                // the translator's first watermark comes once a change was translated (a connector's heartbeat carries no
                // LSN): the regions' first feeds complete now, before anything is cached
                f.awaitFirstFeeds();

                // every row cached as it is now, at a version below any change to come
                Map<Integer, String[]> rows = rows(f);
                for (var row : rows.entrySet()) {
                    for (String key : keysOf(p, row.getKey(), row.getValue()[0])) {
                        r.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA,
                                row.getValue()[0] + "|" + row.getValue()[1]));
                    }
                }
                f.sql("BEGIN; UPDATE items SET price = price + 1 WHERE id BETWEEN 1 AND 10; COMMIT",
                        "UPDATE items SET name = name || 'x' WHERE id BETWEEN 11 AND 13", // the name key moves
                        "DELETE FROM items WHERE id BETWEEN 14 AND 16",
                        "UPDATE items SET price = price + 1 WHERE id = 1");
                // both keys of each changed row: without schemas each template's glob is swept on its own (the region's
                // sweep worker, one glob after the other), so one key's fence says nothing of the other's
                for (int id = 1; id <= 16; id++) {
                    for (String old : List.of(p + "item:" + id, p + "item:" + id + ":" + rows.get(id)[0])) {
                        Await.until("the invalidation of " + old, Duration.ofSeconds(60), () -> r.exists(RedisLayout.fenceKey(old)) == 1);
                    }
                }

                List<String> stale = judge(r, p, rows(f));
                assertEquals(List.of(), stale, "stale entries in Redis");
                for (int id = 17; id <= ROWS; id++) {
                    if (schemas) {
                        assertEquals(1, r.exists(p + "item:" + id), "an unchanged row's entry stays (the judge judged something): " + id);
                    } else {
                        String unchanged = p + "item:" + id;
                        Await.until("without schemas a change invalidates its templates' globs: " + unchanged,
                                Duration.ofSeconds(60), () -> r.exists(unchanged) == 0);
                    }
                }
                Map<Integer, Long> commitLsns = commitLsns(stack, f.config(yaml).topics().changes(), p);
                if (transactions) {
                    // rows 1 to 10 changed in one transaction (and row 1 again in a later one): one commit LSN for the first ten
                    assertEquals(1, java.util.stream.IntStream.rangeClosed(2, 10).mapToObj(commitLsns::get).distinct().count(),
                            "one commit LSN for one transaction: " + commitLsns);
                    assertTrue(commitLsns.get(2) != null && commitLsns.get(2) > 0, "the changes carry their commit LSN: " + commitLsns);
                    assertTrue(commitLsns.get(14) > commitLsns.get(2), "a later transaction commits later: " + commitLsns);
                } else {
                    assertTrue(commitLsns.values().stream().allMatch(l -> l == -1),
                            "no commit LSN without transaction metadata: " + commitLsns);
                }
                assertTrue(watermarkOnChanges(stack, f.config(yaml).topics().changes()),
                        "the connector's heartbeats reach the changes topic as watermarks");

                // read-your-writes with a token that names its source history (ReadTokens.take): the translator's watermarks
                // name the history their LSN is a position in, as capture's do, so the region's applied watermark covers a
                // token of its own history, and a token of another (a restore, a failover to an asynchronous standby) is not
                readYourWrites(f, stack, r, p, f.config(yaml));

                // a record on the connector's topic that is not a change envelope: dead-lettered with why; the table is reset
                try (KafkaProducer<String, String> producer = producer(stack)) {
                    producer.send(
                            new ProducerRecord<>(itemsTopic, "{\"schema\":null,\"payload\":{\"id\":17}}", "{\"not\":\"an envelope\"}"))
                            .get();
                }
                // (without schemas streams dead-letters each change it widened too, for audit: the translator's is the one from its topic)
                ConsumerRecord<String, String> dead = firstRecord(stack, f.config(yaml).topics().dlq(), Duration.ofSeconds(60),
                        rec -> itemsTopic.equals(header(rec, Headers.DLQ_SOURCE_TOPIC)));
                assertEquals("malformed", header(dead, Headers.DLQ_REASON));
                assertEquals(itemsTopic, header(dead, Headers.DLQ_SOURCE_TOPIC));
                assertTrue(header(dead, Headers.DLQ_ERROR).contains(schemas
                        ? "not a JsonConverter record with schemas"
                        : "not a Debezium change envelope (no op or no source)"), header(dead, Headers.DLQ_ERROR));
                assertEquals("{\"not\":\"an envelope\"}", dead.value(), "the original bytes are kept");
                Await.until("the reset of public.items after the unreadable record", Duration.ofSeconds(60),
                        () -> r.exists(p + "item:17") == 0 && r.exists(p + "item:" + ROWS) == 0);
                assertEquals(List.of(), judge(r, p, rows(f)), "stale entries in Redis after the reset");
                assertTrue(connector.failure == null, () -> "the connector failed: " + connector.failure);
            }
        }
    }

    /** The keys of a row, computed here from the template's text, not by Lethe's code. */
    private static List<String> keysOf(String p, int id, String name) {
        return List.of(p + "item:" + id, p + "item:" + id + ":" + name);
    }

    /** Every entry in Redis under the test's prefix whose data is not its row's as the database has it now. */
    private static List<String> judge(RedisCommands<String, String> r, String p, Map<Integer, String[]> now) {
        List<String> stale = new ArrayList<>();
        ScanIterator<String> keys = ScanIterator.scan(r, ScanArgs.Builder.matches(p + "item:*").limit(500));
        while (keys.hasNext()) {
            String key = keys.next();
            String data = r.hget(key, RedisLayout.ENTRY_DATA);
            String[] parts = key.substring(p.length() + "item:".length()).split(":", 2);
            String[] row = now.get(Integer.parseInt(parts[0]));
            boolean current = row != null && (parts.length == 1 || parts[1].equals(row[0])) && (row[0] + "|" + row[1]).equals(data);
            if (!current) {
                stale.add(key + "=" + data + " (row: " + (row == null ? "gone" : row[0] + "|" + row[1]) + ")");
            }
        }
        return stale;
    }

    private static Map<Integer, String[]> rows(PipelineFixture f) throws Exception {
        PostgresEndpoint pg = f.stack.postgres();
        Map<Integer, String[]> out = new HashMap<>();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(f.scope.database()), pg.user(), pg.password());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, name, price FROM items")) {
            while (rs.next()) {
                out.put(rs.getInt(1), new String[] {rs.getString(2), Integer.toString(rs.getInt(3))});
            }
        }
        return out;
    }

    private static boolean slotActive(PipelineFixture f, String slot) {
        PostgresEndpoint pg = f.stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(f.scope.database()), pg.user(), pg.password());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
            return rs.next() && rs.getBoolean(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The commit LSN (-1: none) of the last change of each row on the changes topic (at least rows 1 to 16). */
    private static Map<Integer, Long> commitLsns(LetheStack stack, String topic, String p) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Map<Integer, Long> out = new java.util.TreeMap<>();
        try (KafkaConsumer<String, String> consumer = consumer(stack)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline
                    && !out.keySet().containsAll(java.util.stream.IntStream.rangeClosed(1, 16).boxed().toList())) {
                for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(200))) {
                    if (!Watermark.isWatermark(rec.key()) && rec.value() != null && rec.key().startsWith("public.items:")) {
                        var node = json.readTree(rec.value());
                        out.put(Integer.parseInt(rec.key().substring("public.items:".length())),
                                node.has("commitLsn") ? node.get("commitLsn").asLong() : -1L);
                    }
                }
            }
        }
        return out;
    }

    /**
     * A token taken with its history, then a change after it: the region's applied watermark covers the
     * token once the connector's heartbeats after the change came through, and only in the token's history.
     */
    private static void readYourWrites(PipelineFixture f, LetheStack stack, RedisCommands<String, String> r, String p,
            io.lethe.config.LetheConfig config) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        io.lethe.cache.ReadToken token;
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(f.scope.database()), pg.user(), pg.password())) {
            token = io.lethe.cache.ReadTokens.take(c);
        }
        f.sql("UPDATE items SET price = price + 1 WHERE id = 0");
        String lsnKey = AppliedLsn.key(io.lethe.region.RegionConsumerService.groupId(config, REGION));
        Map<String, String> seen = new HashMap<>();
        try {
            Await.until("the region's applied watermark to cover " + token + " in its history", Duration.ofSeconds(60), () -> {
                seen.clear();
                seen.putAll(r.hgetall(lsnKey));
                java.util.OptionalLong applied = AppliedLsn.of(seen, token.history());
                return applied.isPresent() && applied.getAsLong() >= token.lsn();
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; the region's applied watermark says " + seen, e);
        }
        assertEquals(java.util.Optional.of(token.history()), historyOnChanges(stack, config.topics().changes()),
                "the translator's watermarks name the source's history");
        String entry = p + "item:ryw";
        r.hset(entry, Map.of(RedisLayout.ENTRY_VERSION, "0", RedisLayout.ENTRY_DATA, "cached"));
        try (io.lethe.cache.LetheCache cache = io.lethe.cache.LetheCache.builder(stack.redisUri(REGION)).shadowReadsHeal(false)
                .readYourWrites(io.lethe.region.RegionConsumerService.groupId(config, REGION)).build()) {
            var items = cache.namespace("item", io.lethe.cache.Codecs.utf8(), io.lethe.cache.Policy.eventual());
            assertEquals("cached", items.get(entry, k -> io.lethe.cache.Loaded.of("primary"), token),
                    "a token of the watermark's own history is covered");
            r.hset(entry, Map.of(RedisLayout.ENTRY_VERSION, "0", RedisLayout.ENTRY_DATA, "cached"));
            var restored = new io.lethe.cache.ReadToken(1, token.history().replaceAll("/\\d+$", "/999"));
            assertEquals("primary", items.get(entry, k -> io.lethe.cache.Loaded.of("primary"), restored),
                    "a token of another history (LSN 1 on timeline 999) is not covered by this history's watermark");
        }
        r.del(entry);
    }

    /** The history the last watermark with an LSN on the changes topic names (empty: none says). */
    private static java.util.Optional<String> historyOnChanges(LetheStack stack, String topic) {
        java.util.Optional<String> last = java.util.Optional.empty();
        try (KafkaConsumer<String, String> consumer = consumer(stack)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline) {
                var records = consumer.poll(Duration.ofMillis(200));
                if (records.isEmpty() && last.isPresent()) {
                    break;
                }
                for (ConsumerRecord<String, String> rec : records) {
                    var w = Watermark.isWatermark(rec.key()) ? Watermark.read(rec.headers()) : java.util.Optional.<Watermark>empty();
                    if (w.isPresent() && w.get().lsn() > 0) {
                        last = java.util.Optional.ofNullable(w.get().history());
                    }
                }
            }
        }
        return last;
    }

    private static boolean watermarkOnChanges(LetheStack stack, String topic) throws InterruptedException {
        try (KafkaConsumer<String, String> consumer = consumer(stack)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(200))) {
                    if (Watermark.isWatermark(rec.key()) && Watermark.read(rec.headers()).map(w -> w.lsn() > 0).orElse(false)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    private static ConsumerRecord<String, String> firstRecord(LetheStack stack, String topic, Duration timeout,
            java.util.function.Predicate<ConsumerRecord<String, String>> which) {
        try (KafkaConsumer<String, String> consumer = consumer(stack)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(200))) {
                    if (which.test(rec)) {
                        return rec;
                    }
                }
            }
            throw new AssertionError("no such record on " + topic + " after " + timeout);
        }
    }

    private static String header(ConsumerRecord<?, ?> record, String name) {
        var h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static KafkaConsumer<String, String> consumer(LetheStack stack) {
        return new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "judge-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), new StringDeserializer());
    }

    private static KafkaProducer<String, String> producer(LetheStack stack) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()),
                new StringSerializer(), new StringSerializer());
    }

    /**
     * The platform team's connector: Debezium's PostgreSQL connector in Debezium Embedded, its records
     * serialized by Kafka Connect's JsonConverter (with schemas, Connect's default) and written to the
     * topic Debezium names for each, as a Connect worker writes them. Its own slot and publication.
     */
    private static final class Connector implements AutoCloseable {
        private final DebeziumEngine<ChangeEvent<String, String>> engine;
        private final ExecutorService executor = Executors.newSingleThreadExecutor();
        private final KafkaProducer<String, String> producer;
        volatile Throwable failure;

        Connector(LetheStack stack, TestScope scope, String prefix, boolean transactions, boolean schemas) {
            PostgresEndpoint pg = stack.postgres();
            producer = producer(stack);
            Properties props = new Properties();
            props.setProperty("name", prefix);
            props.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
            props.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
            props.setProperty("offset.flush.interval.ms", "1000");
            props.setProperty("topic.prefix", prefix);
            props.setProperty("database.hostname", pg.host());
            props.setProperty("database.port", Integer.toString(pg.port()));
            props.setProperty("database.user", pg.user());
            if (pg.password() != null) {
                props.setProperty("database.password", pg.password());
            }
            props.setProperty("database.dbname", scope.database());
            props.setProperty("plugin.name", "pgoutput");
            props.setProperty("slot.name", scope.slot() + "_dbz");
            props.setProperty("slot.drop.on.stop", "true");
            props.setProperty("publication.name", scope.publication() + "_dbz");
            props.setProperty("publication.autocreate.mode", "filtered");
            props.setProperty("table.include.list", "public.items");
            props.setProperty("snapshot.mode", "no_data");
            props.setProperty("heartbeat.interval.ms", "300");
            props.setProperty("poll.interval.ms", "10");
            props.setProperty("provide.transaction.metadata", Boolean.toString(transactions));
            props.setProperty("converter.schemas.enable", Boolean.toString(schemas));
            // the setting docs/configuration.md recommends: key-template columns keep their PostgreSQL type
            props.setProperty("column.propagate.source.type", "public\\.items\\..*");
            engine = DebeziumEngine.create(Json.class).using(props)
                    .notifying((records, committer) -> {
                        List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
                        for (ChangeEvent<String, String> e : records) {
                            acks.add(producer.send(new ProducerRecord<>(e.destination(), e.key(), e.value())));
                        }
                        for (int i = 0; i < acks.size(); i++) {
                            try {
                                acks.get(i).get();
                            } catch (java.util.concurrent.ExecutionException ex) {
                                throw new IllegalStateException("the connector's write to Kafka failed", ex);
                            }
                            committer.markProcessed(records.get(i));
                        }
                        committer.markBatchFinished();
                    })
                    .using((success, message, error) -> {
                        if (!success) {
                            failure = error != null ? error : new IllegalStateException(message);
                        }
                    })
                    .build();
            executor.execute(engine);
        }

        @Override
        public void close() throws Exception {
            engine.close();
            executor.shutdown();
            executor.awaitTermination(30, TimeUnit.SECONDS);
            producer.close();
        }
    }
}
