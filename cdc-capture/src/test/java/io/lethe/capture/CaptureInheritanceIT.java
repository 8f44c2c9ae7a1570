package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.source.CaptureStartupException;
import io.lethe.capture.source.CheckResult;
import io.lethe.capture.source.Drift;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
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
 * Table inheritance ({@code CREATE TABLE child (...) INHERITS (parent)}, the partitioning of
 * schemas older than PostgreSQL 10 and still common): a query of the parent reads the children's
 * rows, but PostgreSQL publishes a child's changes under the child's own name (publish_via_partition_root
 * is for declarative partitions only). A namespace on the parent alone would never see them: its
 * cached rows of a child would stay stale for good. Capture refuses that at start-up, accepts each
 * inheriting table that has a namespace with the parent's keys and version, and while it runs treats
 * a table that starts inheriting as it treats an attached partition, and an unconfigured one as a
 * condition that hides changes.
 */
@ExtendWith(LetheStackExtension.class)
class CaptureInheritanceIT {
    private static final String PARENT = """
            measurement: { table: public.measurements, keys: ["measurement:{id}"] }
            marker: { table: public.markers, keys: ["marker:{id}"] }
            """;
    private static final String CHILD = "measurement_2024: { table: public.measurements_2024, keys: [\"measurement:{id}\"] }\n";

    private static double drifts(SimpleMeterRegistry registry, String kind) {
        return registry.find(CaptureMetrics.SOURCE_DRIFT).tag("kind", kind).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static void schema(CaptureFixture f) throws Exception {
        f.sql("CREATE TABLE measurements (id int PRIMARY KEY, v int)", "CREATE TABLE markers (id int PRIMARY KEY)",
                // an inheriting table gets the parent's columns, not its primary key
                "CREATE TABLE measurements_2024 (PRIMARY KEY (id)) INHERITS (measurements)",
                "INSERT INTO measurements VALUES (1, 1)", "INSERT INTO measurements_2024 VALUES (2, 1)");
    }

    /** A parent whose inheriting table has no namespace of its own: refused, naming the table and the fix. */
    @Test
    void aParentWhoseInheritingTableHasNoNamespaceWithItsKeysIsRefused(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        schema(f);
        LetheConfig config = f.config(PARENT);
        CaptureStartupException refused = assertThrows(CaptureStartupException.class, () -> {
            try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
                capture.start();
            }
        }, "a parent table whose child's changes no namespace receives must not start: its rows of the child would stay stale");
        CheckResult r = refused.failed().stream().filter(c -> c.check().equals("table public.measurements")).findFirst()
                .orElseThrow(() -> new AssertionError("no failed check of public.measurements in: " + refused.getMessage()));
        assertTrue(r.message().contains("public.measurements_2024") && r.message().contains("inherit"), r.message());
        assertTrue(r.fix().contains("public.measurements_2024") && r.fix().contains("measurement:{id}"), r.fix());
        // a namespace on the child with other keys, or another version, covers nothing of the parent's
        LetheConfig otherKeys = f.config(PARENT + "m24: { table: public.measurements_2024, keys: [\"m24:{id}\"] }\n");
        assertThrows(CaptureStartupException.class, () -> {
            try (CaptureService capture = new CaptureService(otherKeys, new SimpleMeterRegistry(), Clock.systemUTC())) {
                capture.start();
            }
        });
    }

    /**
     * With a namespace of the child carrying the parent's keys, the child's changes reach capture
     * (under the child's name, in that namespace: streams renders the parent's key from them); a
     * table made to inherit while capture runs, with rows, resets the parent's namespaces (its
     * rows appeared without an INSERT) and, unconfigured, hides changes until it is configured.
     */
    @Test
    void anInheritingTableWithTheParentsKeysIsCapturedAndOneThatJoinsLaterIsReset(LetheStack stack, TestScope scope)
            throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        schema(f);
        LetheConfig config = f.config(PARENT + CHILD);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (CaptureService capture = new CaptureService(config, registry, Clock.systemUTC())) {
            capture.start();
            f.sql("UPDATE measurements SET v = 2 WHERE id = 2"); // the child's row, updated through the parent
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("measurements_2024", 2), Duration.ofSeconds(60));
            ChangeEvent update = events.get(events.size() - 1);
            assertEquals(Op.UPDATE, update.op());
            assertEquals("measurements_2024", update.source().table());

            f.sql("CREATE TABLE measurements_2025 (id int PRIMARY KEY, v int)", "INSERT INTO measurements_2025 VALUES (3, 1)");
            long before = f.currentLsn();
            f.sql("ALTER TABLE measurements_2025 INHERIT measurements"); // row 3 is a row of measurements now
            events = f.readChangesUntil(e -> e.op() == Op.RESET && "measurement".equals(e.namespace()) && e.lsn() >= before,
                    Duration.ofSeconds(60));
            assertTrue(events.stream().noneMatch(e -> e.op() == Op.RESET && "marker".equals(e.namespace())), "markers lost nothing");
            List<Drift> hidden = capture.hiddenBySource();
            assertEquals(List.of(Drift.Kind.INHERITANCE), hidden.stream().map(Drift::kind).toList(), hidden.toString());
            assertTrue(hidden.get(0).what().contains("public.measurements_2025"), hidden.get(0).what());
            assertEquals(1.0, registry.get(CaptureMetrics.SOURCE_HIDDEN).gauge().value());
            assertTrue(drifts(registry, "partitions") >= 1, "the rows that joined are counted as a drift");

            long left = f.currentLsn();
            f.sql("ALTER TABLE measurements_2025 NO INHERIT measurements", "INSERT INTO markers VALUES (1)");
            events = f.readChangesUntil(e -> e.op() == Op.RESET && "measurement".equals(e.namespace()) && e.lsn() >= left,
                    Duration.ofSeconds(60));
            Await.until("the condition ends once the table no longer inherits", Duration.ofSeconds(30),
                    () -> capture.hiddenBySource().isEmpty());
        }
    }
}
