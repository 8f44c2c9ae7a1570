package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.source.CaptureLeadership;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Op;
import io.lethe.stage.health.Misconfiguration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
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
            AtomicInteger updates = new AtomicInteger();
            f.readChangesUntil(e -> e.op() == Op.UPDATE && updates.incrementAndGet() == 2, Duration.ofSeconds(60));
        }
    }

    /**
     * Issue 34: the capture lock is an advisory lock any database login can take. A session that is
     * not Lethe's capture (another role, or another application of the role) holding it is reported
     * as a configuration error naming its role, application and pid, with the statement that ends
     * it; a Lethe standby behind a Lethe leader is not. Once the foreign session goes, capture leads.
     */
    @Test
    void aForeignHolderOfTheCaptureLockIsReportedWithItsRoleAndApplicationAndCaptureLeadsOnceItGoes(LetheStack stack, TestScope scope)
            throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)");
        LetheConfig config = f.config("product: { table: public.products, keys: [\"product:{id}\"] }");
        String intruder = scope.id() + "_intruder";
        PostgresEndpoint pg = stack.postgres();
        f.sql("CREATE ROLE " + intruder + " LOGIN");
        Properties props = new Properties();
        props.setProperty("user", intruder);
        props.setProperty("ApplicationName", "psql");
        try (Connection foreign = DriverManager.getConnection(pg.jdbcUrl(scope.database()), props)) {
            try (PreparedStatement ps = foreign.prepareStatement("SELECT pg_advisory_lock(?, hashtext(?))")) {
                ps.setInt(1, CaptureLeadership.LOCK_CLASS);
                ps.setString(2, scope.slot());
                ps.execute();
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
                capture.start();
                assertTrue(capture.isStandingBy());
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (capture.misconfigured().isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertTrue(capture.misconfigured().isPresent(), "the foreign holder is reported");
                var failure = capture.misconfigured().get();
                assertEquals("foreign-lock-holder", failure.reason());
                assertTrue(failure.fix().contains("role " + intruder) && failure.fix().contains("application psql")
                        && failure.fix().contains("pg_terminate_backend("), failure.fix());
                assertEquals(1.0, registry.get(Misconfiguration.METRIC).tag("stage", "capture").gauge().value());

                foreign.close(); // the session ends, the lock is free
                deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!capture.isStreaming() && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertTrue(capture.isStreaming(), "capture leads once the foreign session is gone");
                assertTrue(capture.misconfigured().isEmpty(), "and the report is cleared");
            }
        } finally {
            f.sql("DROP ROLE " + intruder);
        }
    }

    @Test
    void aLetheStandbyBehindALetheLeaderIsNotReported(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 1)");
        LetheConfig config = f.config("product: { table: public.products, keys: [\"product:{id}\"] }");
        try (CaptureService leader = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC());
                CaptureService standby = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            leader.start();
            standby.start();
            assertTrue(standby.isStandingBy());
            // the sentinels: a change captured by the leader, and the standby's looks at who holds the lock
            f.sql("UPDATE products SET price = 2 WHERE id = 1");
            f.readChangesUntil(e -> e.op() == Op.UPDATE, Duration.ofSeconds(60));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (standby.lockHolderChecks() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(standby.lockHolderChecks() >= 3, "the standby looked at the lock's holder");
            assertTrue(standby.misconfigured().isEmpty(), "a Lethe leader is no foreign holder: " + standby.misconfigured());
        }
    }
}
