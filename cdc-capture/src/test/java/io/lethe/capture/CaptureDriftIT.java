package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.source.Drift;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The source stops publishing what capture relies on, under a running capture and while it is
 * down: each drift resets the namespaces of the tables concerned at an LSN past every change it
 * hid, ahead of the changes after it, and is counted; one that lasts keeps capture unhealthy.
 */
@ExtendWith(LetheStackExtension.class)
class CaptureDriftIT {
    private static final String NAMESPACES = """
            product: { table: public.products, keys: ["product:{id}"] }
            price: { table: public.products, keys: ["price:{id}"] }
            marker: { table: public.markers, keys: ["marker:{id}"] }
            """;

    private static double drifts(SimpleMeterRegistry registry, String kind) {
        return registry.find(CaptureMetrics.SOURCE_DRIFT).tag("kind", kind).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static List<ChangeEvent> resetsOf(List<ChangeEvent> events, String namespace) {
        return events.stream().filter(e -> e.op() == Op.RESET && namespace.equals(e.namespace())).toList();
    }

    /**
     * A namespace added to lethe.yml on a table capture did not publish before: its changes until
     * now were never decoded, while readers may have cached its rows. Capture resets the new table's
     * namespaces at an LSN past them when it starts with it, and only those.
     */
    @Test
    void aNamespaceAddedOnATableCaptureNeverPublishedIsResetWhenCaptureStartsWithIt(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "CREATE TABLE markers (id int PRIMARY KEY)",
                "CREATE TABLE orders (id int PRIMARY KEY, total int)", "INSERT INTO orders VALUES (1, 1)");
        LetheConfig before = f.config(NAMESPACES);
        try (CaptureService capture = new CaptureService(before, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            f.sql("INSERT INTO markers VALUES (1)");
            f.readChangesUntil(CaptureFixture.row("markers", 1), Duration.ofSeconds(60));
        }
        f.sql("UPDATE orders SET total = 2 WHERE id = 1"); // never decoded: orders is in no publication yet
        long hidden = f.currentLsn();
        LetheConfig after = f.config(NAMESPACES + "order: { table: public.orders, keys: [\"order:{id}\"] }\n");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CaptureService capture = new CaptureService(after, registry, Clock.systemUTC())) {
            capture.start();
            f.sql("INSERT INTO markers VALUES (2)");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("markers", 2), Duration.ofSeconds(60));
            List<ChangeEvent> resets = resetsOf(events, "order");
            assertTrue(!resets.isEmpty() && resets.get(resets.size() - 1).lsn() >= hidden,
                    "the added namespace is reset past the change nothing decoded: " + events);
            assertTrue(resetsOf(events, "product").isEmpty() && resetsOf(events, "marker").isEmpty(), "the others lost nothing");
            assertEquals(1.0, drifts(registry, "added"));
        }
    }

    /**
     * An administrator's publication (create-publication: false): products dropped from it while
     * capture streams. Capture cannot repair it, so it resets products' namespaces while it lasts,
     * is unhealthy and names the fix; once it is added back, a last reset covers the whole gap.
     */
    @Test
    void aTableOutOfAnAdministratorsPublicationIsResetWhileItLastsAndOnceMoreWhenItIsBack(LetheStack stack, TestScope scope)
            throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "CREATE TABLE markers (id int PRIMARY KEY)",
                "INSERT INTO products VALUES (1, 1)",
                "CREATE TABLE lethe_heartbeat (slot text PRIMARY KEY, ts timestamptz NOT NULL)",
                "CREATE PUBLICATION " + scope.publication() + " FOR TABLE products, markers, lethe_heartbeat");
        LetheConfig config = f.config(NAMESPACES, stack.postgres().user(), "create-publication: false");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
            capture.start();
            f.sql("ALTER PUBLICATION " + scope.publication() + " DROP TABLE products", "UPDATE products SET price = 2 WHERE id = 1");
            long gap = f.currentLsn();
            f.sql("INSERT INTO markers VALUES (1)");
            // while it lasts, products' namespaces are reset again every 10 s: one comes past the hidden UPDATE
            List<ChangeEvent> events = f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && e.lsn() >= gap,
                    Duration.ofSeconds(60));
            assertTrue(events.stream().noneMatch(e -> e.op() == Op.UPDATE), "the UPDATE was hidden: " + events);
            assertTrue(!resetsOf(events, "price").isEmpty(), events.toString());
            assertTrue(resetsOf(events, "marker").isEmpty(), "markers lost nothing");
            List<Drift> hidden = capture.hiddenBySource();
            assertEquals(List.of(Drift.Kind.MEMBERSHIP), hidden.stream().map(Drift::kind).toList());
            assertEquals("ALTER PUBLICATION " + scope.publication() + " ADD TABLE public.products;", hidden.get(0).fix());
            assertEquals(1.0, registry.get(CaptureMetrics.SOURCE_HIDDEN).gauge().value());
            assertEquals(1.0, drifts(registry, "membership"));

            f.sql("UPDATE products SET price = 3 WHERE id = 1");
            long gapEnd = f.currentLsn();
            f.sql("ALTER PUBLICATION " + scope.publication() + " ADD TABLE products", "INSERT INTO markers VALUES (2)");
            events = f.readChangesUntil(CaptureFixture.row("markers", 2), Duration.ofSeconds(60));
            ChangeEvent marker = events.stream().filter(CaptureFixture.row("markers", 2)).findFirst().orElseThrow();
            List<ChangeEvent> resets = resetsOf(events, "product");
            // (the reader reads on past the marker: a reset of the periodic kind, decided before the table was back, may follow it)
            assertTrue(resets.stream().anyMatch(r -> r.lsn() >= gapEnd && r.capturedAt() <= marker.capturedAt()),
                    "a reset covering the whole gap went out before the change after it: gap end " + gapEnd + ", marker at "
                            + marker.capturedAt() + ", resets " + resets.stream().map(r -> r.lsn() + "@" + r.capturedAt()).toList());
            assertEquals(List.of(), capture.hiddenBySource());
            assertEquals(0.0, registry.get(CaptureMetrics.SOURCE_HIDDEN).gauge().value());
            assertEquals(2.0, drifts(registry, "membership"), "the loss and the gap");

            f.sql("UPDATE products SET price = 4 WHERE id = 1");
            events = f.readChangesUntil(e -> e.op() == Op.UPDATE, Duration.ofSeconds(60));
            assertEquals(1, events.stream().filter(e -> e.op() == Op.UPDATE).count(), "changes are decoded again");
        }
    }

    /**
     * FOR ALL TABLES lets a table be set UNLOGGED (and it then quietly leaves the publication) and
     * LOGGED again; only its new relfilenode shows what happened in between.
     */
    @Test
    void aTableSetUnloggedAndBackUnderForAllTablesIsReset(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "CREATE TABLE markers (id int PRIMARY KEY)",
                "INSERT INTO products VALUES (1, 1)",
                "CREATE PUBLICATION " + scope.publication() + " FOR ALL TABLES");
        LetheConfig config = f.config(NAMESPACES, stack.postgres().user(), "create-publication: false");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
            capture.start();
            f.sql("ALTER TABLE products SET UNLOGGED", "UPDATE products SET price = 2 WHERE id = 1");
            long gap = f.currentLsn();
            f.sql("ALTER TABLE products SET LOGGED", "INSERT INTO markers VALUES (1)");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("markers", 1), Duration.ofSeconds(60));
            assertTrue(events.stream().noneMatch(e -> e.op() == Op.UPDATE), "the UPDATE was never logged: " + events);
            List<ChangeEvent> resets = resetsOf(events, "product");
            assertTrue(!resets.isEmpty() && resets.get(resets.size() - 1).lsn() >= gap, "products' namespaces reset: " + events);
            assertTrue(drifts(registry, "rewritten") + drifts(registry, "persistence") >= 1);
        }
    }

    /**
     * The publication dropped and made again while capture was down: PostgreSQL cannot decode
     * the slot past the drop ("publication does not exist"). Capture makes a new slot and resets
     * every namespace, and streams again.
     */
    @Test
    void aPublicationMadeAgainWhileCaptureWasDownMakesANewSlotAndResetsEverything(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "CREATE TABLE markers (id int PRIMARY KEY)",
                "INSERT INTO products VALUES (1, 1)");
        LetheConfig config = f.config(NAMESPACES);
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            f.sql("INSERT INTO markers VALUES (1)");
            f.readChangesUntil(CaptureFixture.row("markers", 1), Duration.ofSeconds(60));
        }
        f.sql("DROP PUBLICATION " + scope.publication(), "UPDATE products SET price = 2 WHERE id = 1",
                "CREATE PUBLICATION " + scope.publication() + " FOR TABLE products, markers, lethe_heartbeat "
                        + "WITH (publish_via_partition_root = true)");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
            capture.start();
            assertEquals(1.0, drifts(registry, "publication"));
            assertEquals(1.0, registry.get(CaptureMetrics.SLOT_RESETS).counter().count(), "a new slot, every namespace reset");
            f.sql("INSERT INTO markers VALUES (2)");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("markers", 2), Duration.ofSeconds(60));
            for (String ns : List.of("product", "price", "marker")) {
                assertEquals(1, resetsOf(events, ns).size(), ns + ": " + events);
            }
            assertTrue(capture.isStreaming() && !capture.isStopped());
        }
    }

    /** The publication dropped under a running capture: every namespace reset, capture stops, naming why. */
    @Test
    void aPublicationDroppedUnderARunningCaptureResetsEverythingAndStopsIt(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "CREATE TABLE markers (id int PRIMARY KEY)");
        LetheConfig config = f.config(NAMESPACES, stack.postgres().user(), "create-publication: false");
        f.sql("CREATE TABLE lethe_heartbeat (slot text PRIMARY KEY, ts timestamptz NOT NULL)",
                "CREATE PUBLICATION " + scope.publication() + " FOR TABLE products, markers, lethe_heartbeat");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
            capture.start();
            f.sql("DROP PUBLICATION " + scope.publication());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!capture.isStopped()) {
                assertTrue(System.nanoTime() < deadline, "capture keeps going without its publication");
                Thread.sleep(50);
            }
            assertTrue(capture.failure().orElseThrow().getMessage().contains("publication " + scope.publication() + " was dropped"),
                    capture.failure().toString());
            assertEquals(1.0, drifts(registry, "publication"));
            List<ChangeEvent> events = f.readChangesUntil(e -> e.op() == Op.RESET && "marker".equals(e.namespace()),
                    Duration.ofSeconds(60));
            for (String ns : List.of("product", "price", "marker")) {
                assertEquals(1, resetsOf(events, ns).size(), ns + ": " + events);
            }
        }
    }
}
