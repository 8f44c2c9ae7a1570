package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LetheStackExtension.class)
class CaptureIT {

    @Test
    void rowChangesArePublishedWithLsnVersionsAndOnlyNeededColumns(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text, price int, description text)",
                "ALTER TABLE products REPLICA IDENTITY FULL",
                "INSERT INTO products VALUES (1, 'one', 10, 'long text')");
        LetheConfig config = f.config("""
                product:
                  table: public.products
                  keys: ["product:{id}", "product:slug:{slug}"]
                """);
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            f.sql("UPDATE products SET price = 11 WHERE id = 1",
                    "UPDATE products SET price = 12 WHERE id = 1",
                    "DELETE FROM products WHERE id = 1",
                    "INSERT INTO products VALUES (2, 'two', 20, 'x')");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("products", 2), Duration.ofSeconds(60));
            List<ChangeEvent> one = events.stream().filter(CaptureFixture.row("products", 1)).toList();
            assertEquals(List.of(Op.UPDATE, Op.UPDATE, Op.DELETE), one.stream().map(ChangeEvent::op).toList());
            assertTrue(Long.parseLong(one.get(0).version()) < Long.parseLong(one.get(1).version()));
            assertTrue(Long.parseLong(one.get(1).version()) < Long.parseLong(one.get(2).version()));
            ChangeEvent insert = events.get(events.size() - 1);
            assertEquals(Op.CREATE, insert.op());
            assertEquals(Set.of("id", "slug"), insert.after().keySet(), "only key-template columns are carried");
            assertEquals("two", insert.after().get("slug"));
            assertEquals(String.valueOf(insert.lsn()), insert.version());
            assertTrue(insert.commitTs() > 0 && insert.txId() != null);
        }
    }

    @Test
    void aDeleteUnderReplicaIdentityDefaultCarriesNullNotMissingForColumnsOutsideTheKey(LetheStack stack, TestScope scope)
            throws Exception {
        // the shape invalidation-streams reads as unknown (issue 27, item 7): NULL, present, not absent
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text, price int)",
                "ALTER TABLE products REPLICA IDENTITY FULL",
                "INSERT INTO products VALUES (1, 'one', 10), (2, 'two', 20)");
        LetheConfig config = f.config("""
                product:
                  table: public.products
                  keys: ["product:{id}", "product:slug:{slug}"]
                """);
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            f.sql("ALTER TABLE products REPLICA IDENTITY DEFAULT",
                    "DELETE FROM products WHERE id = 1",
                    "INSERT INTO products VALUES (3, 'three', 30)");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("products", 3), Duration.ofSeconds(60));
            ChangeEvent delete = events.stream().filter(CaptureFixture.row("products", 1)).filter(e -> e.op() == Op.DELETE)
                    .findFirst().orElseThrow();
            assertEquals(1, ((Number) delete.before().get("id")).intValue());
            assertTrue(delete.before().containsKey("slug"), "the old image names the column: " + delete.before());
            assertEquals(null, delete.before().get("slug"), "PostgreSQL sent only the key; the slug is NULL, not 'one'");
        }
    }

    @Test
    void interleavedTransactionsAreCapturedWithVersionsMonotonicPerRow(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE accounts (id int PRIMARY KEY, balance int)", "INSERT INTO accounts VALUES (1, 0), (2, 0), (3, 0)");
        LetheConfig config = f.config("account: { table: public.accounts, keys: [\"account:{id}\"] }");
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC());
                Connection t1 = f.connect();
                Connection t2 = f.connect()) {
            capture.start();
            t1.setAutoCommit(false);
            t2.setAutoCommit(false);
            t1.createStatement().execute("UPDATE accounts SET balance = 1 WHERE id = 1"); // T1 changes A first ...
            t2.createStatement().execute("UPDATE accounts SET balance = 1 WHERE id = 2");
            t2.commit(); // ... T2 commits first ...
            t1.commit(); // ... T1 commits last
            for (int i = 2; i <= 4; i++) {
                f.sql("UPDATE accounts SET balance = " + i + " WHERE id = 1"); // successive transactions on A
            }
            f.sql("UPDATE accounts SET balance = 9 WHERE id = 3"); // sentinel
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("accounts", 3), Duration.ofSeconds(60));
            List<ChangeEvent> a = events.stream().filter(CaptureFixture.row("accounts", 1)).toList();
            List<ChangeEvent> b = events.stream().filter(CaptureFixture.row("accounts", 2)).toList();
            assertEquals(4, a.size(), "T1's change and the three later transactions on row A");
            assertEquals(1, b.size(), "T2's change on row B");
            for (int i = 1; i < a.size(); i++) {
                assertTrue(Long.parseLong(a.get(i - 1).version()) < Long.parseLong(a.get(i).version()),
                        "row A's versions rise strictly: " + a.stream().map(ChangeEvent::version).toList());
            }
            assertTrue(a.get(0).txId() != null && !a.get(0).txId().equals(b.get(0).txId()), "two transactions");
        }
    }

    @Test
    void heartbeatsAdvanceTheSlotWhileCapturedTablesAreIdle(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE quiet (id int PRIMARY KEY)", "CREATE TABLE busy (id serial PRIMARY KEY, payload text)");
        LetheConfig config = f.config("quiet: { table: public.quiet, keys: [\"quiet:{id}\"] }");
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            long start = f.confirmedFlushLsn();
            for (int i = 0; i < 50; i++) {
                f.sql("INSERT INTO busy (payload) SELECT repeat('x', 1000) FROM generate_series(1, 100)");
            }
            long target = f.currentLsn();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (f.confirmedFlushLsn() < target) {
                assertTrue(System.nanoTime() < deadline, "confirmed_flush_lsn stuck at " + f.confirmedFlushLsn()
                        + " (started at " + start + ") below " + target);
                Thread.sleep(100);
            }
            assertTrue(f.confirmedFlushLsn() > start);
        }
    }
}
