package io.lethe.capture;

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

/**
 * DDL that changes what every row holds without a row change: logical decoding publishes no
 * change for the rows a table rewrite or a catalog change alters. {@code ALTER COLUMN ... TYPE}
 * converts each value (a lossy cast, a {@code USING} expression), and {@code ALTER TYPE ... RENAME
 * VALUE} renames an enum label in every row that holds it. Entries a reader cached of those rows
 * (their values, keys rendered from them) would stay stale for good: capture resets the
 * namespaces of the tables concerned at a position past the DDL, and leaves alone a table whose
 * values did not change.
 */
@ExtendWith(LetheStackExtension.class)
class CaptureDdlIT {
    private static final String NAMESPACES = """
            product: { table: public.products, keys: ["product:{id}"] }
            marker: { table: public.markers, keys: ["marker:{id}"] }
            """;

    private static List<ChangeEvent> resetsOf(List<ChangeEvent> events, String namespace, long from) {
        return events.stream().filter(e -> e.op() == Op.RESET && namespace.equals(e.namespace()) && e.lsn() >= from).toList();
    }

    @Test
    void aColumnRetypedReplacedOrAnEnumLabelRenamedResetsItsTablesNamespaces(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        String status = "status_" + scope.id();
        String addr = "addr_" + scope.id();
        f.sql("CREATE TYPE " + status + " AS ENUM ('draft', 'live')", "CREATE TYPE " + addr + " AS (street text, city text)",
                "CREATE TABLE products (id int PRIMARY KEY, price numeric(10,2), state " + status + ")",
                "CREATE TABLE markers (id int PRIMARY KEY, a " + addr + ")",
                "INSERT INTO products VALUES (1, 1.25, 'live')");
        LetheConfig config = f.config(NAMESPACES);
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            long retyped = f.currentLsn();
            // every price is rounded to one decimal (1.25 -> 1.3) by the rewrite: no UPDATE is decoded
            f.sql("ALTER TABLE products ALTER COLUMN price TYPE numeric(10,1)");
            List<ChangeEvent> events = f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && e.lsn() >= retyped,
                    Duration.ofSeconds(60));
            assertTrue(events.stream().noneMatch(e -> e.op() == Op.UPDATE), "the rewrite decoded no change: " + events);
            assertTrue(resetsOf(events, "marker", retyped).isEmpty(), "markers lost nothing");

            long renamed = f.currentLsn();
            // every 'live' row reads 'active' now, without a change
            f.sql("ALTER TYPE " + status + " RENAME VALUE 'live' TO 'active'");
            f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && e.lsn() >= renamed, Duration.ofSeconds(60));

            long swapped = f.currentLsn();
            // two labels swap names: the set of labels is the same, every row's value is not
            f.sql("ALTER TYPE " + status + " RENAME VALUE 'draft' TO 'tmp'", "ALTER TYPE " + status + " RENAME VALUE 'active' TO 'draft'",
                    "ALTER TYPE " + status + " RENAME VALUE 'tmp' TO 'active'");
            f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && e.lsn() >= swapped, Duration.ofSeconds(60));

            long replaced = f.currentLsn();
            // expand and contract: the name price now means a new column, 0 in every row; no row change, no rewrite
            f.sql("ALTER TABLE products RENAME COLUMN price TO price_old", "ALTER TABLE products ADD COLUMN price numeric(10,1) DEFAULT 0");
            f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && e.lsn() >= replaced, Duration.ofSeconds(60));

            long relabelled = f.currentLsn();
            // a label renamed and the old label added back at once: the labels read as one added; rows now read 'done'
            f.sql("ALTER TYPE " + status + " RENAME VALUE 'draft' TO 'done'", "ALTER TYPE " + status + " ADD VALUE 'draft'");
            f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && e.lsn() >= relabelled, Duration.ofSeconds(60));

            long reshaped = f.currentLsn();
            // an attribute dropped from a composite type a column holds: every value's text changes, no row change
            f.sql("ALTER TYPE " + addr + " DROP ATTRIBUTE city");
            f.readChangesUntil(e -> e.op() == Op.RESET && "marker".equals(e.namespace()) && e.lsn() >= reshaped, Duration.ofSeconds(60));

            long rewritten = f.currentLsn();
            // the same type, new values: the USING computes every price again (1.3 -> 2.3), and the type reads as before
            f.sql("ALTER TABLE products ALTER COLUMN price TYPE numeric(10,1) USING price + 1");
            f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && e.lsn() >= rewritten, Duration.ofSeconds(60));

            // expand and contract across checks: the name goes away in one, while another table drifts (capture stores
            // the state it relies on then), and comes back as another column in a later one
            long away = f.currentLsn();
            f.sql("ALTER TABLE products RENAME COLUMN price TO price_before", "ALTER TABLE markers ALTER COLUMN id TYPE bigint");
            events = f.readChangesUntil(e -> e.op() == Op.RESET && "marker".equals(e.namespace()) && e.lsn() >= away,
                    Duration.ofSeconds(60));
            assertTrue(resetsOf(events, "product", away).isEmpty(), "a name only renamed away changes no value a name reads: " + events);
            long back = f.currentLsn();
            f.sql("ALTER TABLE products ADD COLUMN price numeric(10,1) DEFAULT 0");
            f.readChangesUntil(e -> e.op() == Op.RESET && "product".equals(e.namespace()) && e.lsn() >= back, Duration.ofSeconds(60));

            // the first rewrite after ADD COLUMN ... DEFAULT writes the default into every row and clears the column's
            // "missing value" in pg_attribute, which reads like an altered column: it may reset (more than needed, once)
            f.sql("VACUUM FULL products", "INSERT INTO markers VALUES (9)");
            f.readChangesUntil(CaptureFixture.row("markers", 9), Duration.ofSeconds(60));

            long altered = f.currentLsn();
            // a column altered in one interval and the table rewritten in a later one is no USING rewrite
            f.sql("ALTER TABLE products ALTER COLUMN price SET STATISTICS 200", "INSERT INTO markers VALUES (10)");
            events = f.readChangesUntil(CaptureFixture.row("markers", 10), Duration.ofSeconds(60));
            assertTrue(resetsOf(events, "product", altered).isEmpty(), "SET STATISTICS changes no value: " + events);

            long vacuumed = f.currentLsn();
            // rewritten with every value as it was; a label added and a column dropped change no value a name reads
            f.sql("VACUUM FULL products", "ALTER TYPE " + status + " ADD VALUE 'archived' BEFORE 'draft'",
                    "ALTER TABLE products DROP COLUMN price_old", "INSERT INTO markers VALUES (1)");
            events = f.readChangesUntil(CaptureFixture.row("markers", 1), Duration.ofSeconds(60));
            assertTrue(resetsOf(events, "product", altered).isEmpty(), "a rewrite that changes no value resets nothing: " + events);

            // identifiers and enum labels may hold any character but NUL, the ASCII separators too: the state still
            // reads, and a label holding one renamed is still a drift
            String odd = "odd_" + scope.id();
            f.sql("CREATE TYPE " + odd + " AS ENUM (E'a\\x1db', E'c\\x1fd')",
                    "ALTER TABLE markers ADD COLUMN \"col\u001e\u001f\u001dumn\" " + odd + " DEFAULT E'a\\x1db'",
                    "INSERT INTO markers VALUES (2)");
            f.readChangesUntil(CaptureFixture.row("markers", 2), Duration.ofSeconds(60));
            long odder = f.currentLsn();
            f.sql("ALTER TYPE " + odd + " RENAME VALUE E'a\\x1db' TO E'a\\x1d\\x1eb'");
            f.readChangesUntil(e -> e.op() == Op.RESET && "marker".equals(e.namespace()) && e.lsn() >= odder, Duration.ofSeconds(60));
        }
    }
}
