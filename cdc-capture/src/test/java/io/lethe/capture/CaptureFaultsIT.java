package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.engine.EngineProperties;
import io.lethe.capture.source.OffsetHistory;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.ChildJvm;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
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

@ExtendWith(LetheStackExtension.class)
class CaptureFaultsIT {
    private static final int ROWS = 20_000;
    private static final int PER_TRANSACTION = 100;

    @Test
    void killedMidBurstAndRestartedEveryCommittedChangeIsPublished(LetheStack stack, TestScope scope, @TempDir Path dir)
            throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE events (id int PRIMARY KEY, body text)");
        Path file = dir.resolve("lethe.yml");
        Files.writeString(file, f.yaml("event: { table: public.events, keys: [\"event:{id}\"] }", stack.postgres().user()));
        List<String> jvm = List.of("-Xmx384m");
        AtomicInteger committed = new AtomicInteger();
        try (ChildJvm first = ChildJvm.start("capture-1", CaptureProcessMain.class.getName(), List.of(file.toString()), jvm,
                dir.resolve("1.log"))) {
            first.awaitOutput("CAPTURE-STREAMING", Duration.ofSeconds(90));
            Thread writer = new Thread(() -> {
                try (Connection c = f.connect(); Statement s = c.createStatement()) {
                    for (int from = 1; from <= ROWS; from += PER_TRANSACTION) {
                        s.execute("INSERT INTO events SELECT i, 'burst' FROM generate_series(" + from + ", "
                                + (from + PER_TRANSACTION - 1) + ") i");
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
        try (ChildJvm second = ChildJvm.start("capture-2", CaptureProcessMain.class.getName(), List.of(file.toString()), jvm,
                dir.resolve("2.log"))) {
            second.awaitOutput("CAPTURE-STREAMING", Duration.ofSeconds(90));
            f.sql("INSERT INTO events VALUES (" + (ROWS + 1) + ", 'sentinel')");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("events", ROWS + 1), Duration.ofSeconds(180));
            Set<Integer> seen = new HashSet<>();
            events.forEach(e -> seen.add(((Number) e.key().get("id")).intValue()));
            for (int id = 1; id <= ROWS; id++) {
                assertTrue(seen.contains(id), "committed insert of row " + id + " is missing; " + seen.size() + " rows seen");
            }
        }
    }

    @Test
    void aSlotDroppedWhileCaptureWasDownResetsEveryNamespaceBeforeNewChanges(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 1)");
        LetheConfig config = f.config("""
                product: { table: public.products, keys: ["product:{id}"] }
                price: { table: public.products, keys: ["price:{id}"] }
                """);
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            f.sql("UPDATE products SET price = 2 WHERE id = 1");
            f.readChangesUntil(e -> e.op() == Op.UPDATE, Duration.ofSeconds(60));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!OffsetHistory.hasOffsets(config, EngineProperties.serverName(config),
                    Duration.ofSeconds(10))) {
                assertTrue(System.nanoTime() < deadline, "capture never stored an offset");
                Thread.sleep(100);
            }
        }
        f.dropSlot();
        f.sql("UPDATE products SET price = 3 WHERE id = 1"); // lost: no slot holds it
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
            capture.start();
            assertEquals(1.0, registry.get(CaptureMetrics.SLOT_RESETS).counter().count(), "the alarm metric counts the reset");
            f.sql("INSERT INTO products VALUES (2, 4)");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("products", 2), Duration.ofSeconds(60));
            List<ChangeEvent> resets = events.stream().filter(e -> e.op() == Op.RESET).toList();
            assertEquals(Set.of("product", "price"), Set.copyOf(resets.stream().map(ChangeEvent::namespace).toList()));
            ChangeEvent after = events.stream().filter(CaptureFixture.row("products", 2)).findFirst().orElseThrow();
            for (ChangeEvent reset : resets) {
                assertTrue(reset.capturedAt() < after.capturedAt(), "the reset was published before the new change");
                assertTrue(reset.lsn() < after.lsn(), "the reset's version is below every change after it");
            }
        }
    }
}
