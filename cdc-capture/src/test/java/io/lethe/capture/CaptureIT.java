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
import java.time.Clock;
import java.time.Duration;
import java.util.List;
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
            assertEquals(java.util.Set.of("id", "slug"), insert.after().keySet(), "only key-template columns are carried");
            assertEquals("two", insert.after().get("slug"));
            assertEquals(String.valueOf(insert.lsn()), insert.version());
            assertTrue(insert.commitTs() > 0 && insert.txId() != null);
        }
    }
}
