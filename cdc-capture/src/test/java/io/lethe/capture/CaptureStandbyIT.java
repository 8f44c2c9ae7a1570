package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Op;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Two captures on one slot: one streams, the other stands by and takes over when the first goes. */
@ExtendWith(LetheStackExtension.class)
class CaptureStandbyIT {
    @Test
    void aSecondCaptureStandsByAndTakesOverWhenTheFirstCloses(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 1)");
        LetheConfig config = f.config("product: { table: public.products, keys: [\"product:{id}\"] }");
        SimpleMeterRegistry standbyMetrics = new SimpleMeterRegistry();
        try (CaptureService standby = new CaptureService(config, standbyMetrics, Clock.systemUTC())) {
            try (CaptureService leader = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
                leader.start();
                assertTrue(leader.isStreaming());
                standby.start();
                assertTrue(standby.isStandingBy(), "the slot's capture lock is taken: the second one waits");
                assertFalse(standby.isStreaming());
                assertEquals(0, standbyMetrics.get("lethe.capture.leader").gauge().value());
                f.sql("UPDATE products SET price = 2 WHERE id = 1"); // the payload carries key columns only: count the updates
                f.readChangesUntil(e -> e.op() == Op.UPDATE, Duration.ofSeconds(60));
            }
            long closed = System.nanoTime();
            long deadline = closed + Duration.ofSeconds(30).toNanos();
            while (!standby.isStreaming() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(standby.isStreaming(), "the standby took over within 30 s");
            assertEquals(1, standbyMetrics.get("lethe.capture.leader").gauge().value());
            f.sql("UPDATE products SET price = 3 WHERE id = 1");
            java.util.concurrent.atomic.AtomicInteger updates = new java.util.concurrent.atomic.AtomicInteger();
            f.readChangesUntil(e -> e.op() == Op.UPDATE && updates.incrementAndGet() == 2, Duration.ofSeconds(60));
        }
    }
}
