package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.ChildJvm;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Capture shards (issue 31) at the capture: one shard's capture killed mid-burst (a child JVM,
 * kill -9) and started again loses no committed change while the other shard captures on; and a
 * shard set change fails closed (a new shard's first start, a table moved to another shard, each
 * resets the namespaces concerned).
 */
@ExtendWith(LetheStackExtension.class)
class CaptureShardsFaultsIT {
    private static final int ROWS = 5_000;
    private static final int PER_TRANSACTION = 100;

    private static String yaml(LetheStack stack, TestScope scope, String shards, String namespaces) {
        PostgresEndpoint pg = stack.postgres();
        return """
                source:
                  jdbc-url: %s
                  user: %s
                  heartbeat-interval: 500ms
                  shards:
                %s
                kafka:
                  bootstrap-servers: %s
                  topic-prefix: %s
                regions:
                  us-east: { redis: %s }
                namespaces:
                %s
                """.formatted(pg.jdbcUrl(scope.database()), pg.user(), shards.indent(4).stripTrailing(), stack.kafkaBootstrapServers(),
                scope.topicPrefix(), stack.redisUri("us-east"), namespaces.indent(2));
    }

    @Test
    void aShardKilledMidBurstAndRestartedLosesNothingWhileTheOtherShardCapturesOn(LetheStack stack, TestScope scope, @TempDir Path dir)
            throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        String bulkSlot = scope.slot() + "_bulk";
        String catalogSlot = scope.slot() + "_catalog";
        f.sql("CREATE TABLE events (id int PRIMARY KEY, body text)", "CREATE TABLE products (id int PRIMARY KEY, name text)");
        String yaml = yaml(stack, scope, """
                bulk: { slot: %s, publication: %s, tables: [public.events] }
                catalog: { slot: %s, publication: %s, tables: [public.products] }
                """.formatted(bulkSlot, bulkSlot, catalogSlot, catalogSlot), """
                event: { table: public.events, keys: ["event:{id}"] }
                product: { table: public.products, keys: ["product:{id}"] }
                """);
        Path file = dir.resolve("lethe.yml");
        Files.writeString(file, yaml);
        LetheConfig config = ConfigLoader.parse(file.toString(), yaml, System::getenv);
        List<String> jvm = List.of("-Xmx384m");
        AtomicInteger committed = new AtomicInteger();
        try (CaptureService catalog = new CaptureService(config.forShard("catalog"), new SimpleMeterRegistry(), Clock.systemUTC())) {
            catalog.start();
            try (ChildJvm first = ChildJvm.start("bulk-1", CaptureProcessMain.class.getName(), List.of(file.toString(), "bulk"), jvm,
                    dir.resolve("1.log"))) {
                first.awaitOutput("CAPTURE-STREAMING", Duration.ofSeconds(90));
                Thread writer = new Thread(() -> {
                    try (Connection c = f.connect(); Statement s = c.createStatement()) {
                        for (int from = 1; from <= ROWS; from += PER_TRANSACTION) {
                            s.execute("INSERT INTO events SELECT i, 'burst' FROM generate_series(" + from + ", "
                                    + (from + PER_TRANSACTION - 1) + ") i");
                            s.execute("INSERT INTO products VALUES (" + from + ", 'p')");
                            committed.addAndGet(PER_TRANSACTION);
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, "burst-writer");
                writer.start();
                while (committed.get() < ROWS / 4) {
                    Thread.sleep(5);
                }
                first.kill(); // mid-burst: batches in flight, offsets unflushed
                writer.join();
            }
            // shard catalog captured on meanwhile: its sentinel arrives while shard bulk is down
            f.sql("INSERT INTO products VALUES (" + (ROWS + 1) + ", 'sentinel')");
            f.readChangesUntil(CaptureFixture.row("products", ROWS + 1), Duration.ofSeconds(90));
            try (ChildJvm second = ChildJvm.start("bulk-2", CaptureProcessMain.class.getName(), List.of(file.toString(), "bulk"), jvm,
                    dir.resolve("2.log"))) {
                second.awaitOutput("CAPTURE-STREAMING", Duration.ofSeconds(90));
                f.sql("INSERT INTO events VALUES (" + (ROWS + 1) + ", 'sentinel')");
                List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("events", ROWS + 1), Duration.ofSeconds(180));
                Set<Integer> seenEvents = new HashSet<>();
                Set<Integer> seenProducts = new HashSet<>();
                // rows by key (a reset, which a restart may publish for a transaction it saw only part of, has none)
                events.stream().filter(e -> e.key() != null)
                        .forEach(e -> (e.source().table().equals("events") ? seenEvents : seenProducts)
                                .add(((Number) e.key().get("id")).intValue()));
                for (int id = 1; id <= ROWS; id++) {
                    assertTrue(seenEvents.contains(id), "committed insert of events row " + id + " (shard bulk, killed) is missing; "
                            + seenEvents.size() + " rows seen");
                }
                for (int id = 1; id <= ROWS; id += PER_TRANSACTION) {
                    assertTrue(seenProducts.contains(id), "committed insert of products row " + id + " (shard catalog) is missing");
                }
            }
        } finally {
            dropSlots(f, bulkSlot, catalogSlot);
        }
    }

    @Test
    void aNewShardAndATableMovedToAnotherShardResetTheirNamespaces(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        String a = scope.slot() + "_a";
        String b = scope.slot() + "_b";
        f.sql("CREATE TABLE products (id int PRIMARY KEY)", "CREATE TABLE orders (id int PRIMARY KEY)",
                "CREATE TABLE lines (id int PRIMARY KEY)");
        String namespaces = """
                product: { table: public.products, keys: ["product:{id}"] }
                order: { table: public.orders, keys: ["order:{id}"] }
                line: { table: public.lines, keys: ["line:{id}"] }
                """;
        LetheConfig before = ConfigLoader.parse("lethe.yml", yaml(stack, scope, """
                a: { slot: %s, publication: %s, tables: [public.products] }
                b: { slot: %s, publication: %s, tables: [public.orders, public.lines] }
                """.formatted(a, a, b, b), namespaces), System::getenv);
        LetheConfig after = ConfigLoader.parse("lethe.yml", yaml(stack, scope, """
                a: { slot: %s, publication: %s, tables: [public.products, public.orders] }
                b: { slot: %s, publication: %s, tables: [public.lines] }
                """.formatted(a, a, b, b), namespaces), System::getenv);
        try {
            try (CaptureService shardA = new CaptureService(before.forShard("a"), new SimpleMeterRegistry(), Clock.systemUTC())) {
                shardA.start();
                awaitHeartbeatRow(f, a);
                // shard b's slot never streamed while shard a's did: a new shard, whose tables' changes before its slot are unknown
                SimpleMeterRegistry registryB = new SimpleMeterRegistry();
                try (CaptureService shardB = new CaptureService(before.forShard("b"), registryB, Clock.systemUTC())) {
                    shardB.start();
                    f.sql("INSERT INTO lines VALUES (1)");
                    List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("lines", 1), Duration.ofSeconds(60));
                    assertEquals(Set.of("order", "line"), resetNamespaces(events), "a new shard resets its own namespaces, and only those");
                    assertEquals(1.0, registryB.get(CaptureMetrics.SLOT_RESETS).counter().count());
                }
            }
            // orders moves from shard b to shard a: shard a's first start with it resets its namespace
            long started = System.currentTimeMillis() * 1000;
            try (CaptureService shardA = new CaptureService(after.forShard("a"), new SimpleMeterRegistry(), Clock.systemUTC())) {
                shardA.start();
                f.sql("INSERT INTO orders VALUES (2)");
                List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("orders", 2), Duration.ofSeconds(60));
                List<ChangeEvent> moved = events.stream().filter(e -> e.op() == Op.RESET && e.capturedAt() >= started).toList();
                assertEquals(Set.of("order"), Set.copyOf(moved.stream().map(ChangeEvent::namespace).toList()),
                        "the table moved into shard a is reset when shard a starts with it: " + moved);
                ChangeEvent insert = events.stream().filter(CaptureFixture.row("orders", 2)).findFirst().orElseThrow();
                assertTrue(moved.stream().allMatch(r -> r.lsn() < insert.lsn()), "the reset is below every change shard a captures of it");
            }
        } finally {
            dropSlots(f, a, b);
        }
    }

    private static Set<String> resetNamespaces(List<ChangeEvent> events) {
        Set<String> out = new HashSet<>();
        events.stream().filter(e -> e.op() == Op.RESET).forEach(e -> out.add(e.namespace()));
        return out;
    }

    private static void awaitHeartbeatRow(CaptureFixture f, String slot) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (Connection c = f.connect();
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT count(*) FROM public.lethe_heartbeat WHERE slot = '" + slot + "'")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    return;
                }
            } catch (SQLException e) {
                // the heartbeat table is made by the first capture's start
            }
            assertTrue(System.nanoTime() < deadline, "shard " + slot + " never wrote its heartbeat row");
            Thread.sleep(50);
        }
    }

    private static void dropSlots(CaptureFixture f, String... slots) throws Exception {
        for (String slot : slots) {
            f.sql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "' AND NOT active");
        }
    }
}
