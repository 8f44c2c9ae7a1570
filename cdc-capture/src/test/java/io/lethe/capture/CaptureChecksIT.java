package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.source.CaptureStartupException;
import io.lethe.capture.source.CheckResult;
import io.lethe.capture.source.DatabaseChecks;
import io.lethe.capture.source.ManagedPostgres;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.replication.PGReplicationStream;

/** Each start-up check refuses a database set up to violate it, with the fix. */
@ExtendWith(LetheStackExtension.class)
class CaptureChecksIT {
    private static final String PRODUCTS = "product: { table: public.products, keys: [\"product:{id}\", \"product:slug:{slug}\"] }";

    private static CaptureStartupException refused(LetheConfig config) {
        return assertThrows(CaptureStartupException.class, () -> {
            try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
                capture.start();
            }
        });
    }

    private static CheckResult failed(CaptureStartupException e, String check) {
        return e.failed().stream().filter(r -> r.check().equals(check)).findFirst()
                .orElseThrow(() -> new AssertionError("no failed check '" + check + "' in: " + e.getMessage()));
    }

    @Test
    void walLevelMustBeLogical(EmbeddedStack stack, TestScope scope) throws Exception {
        PostgresEndpoint replicaLevel = stack.startExtraPostgres("wal-replica-" + scope.id(), Map.of("wal_level", "replica"));
        try (Connection c = DriverManager.getConnection(replicaLevel.jdbcUrl("postgres"), replicaLevel.user(), replicaLevel.password())) {
            c.createStatement().execute("CREATE TABLE products (id int PRIMARY KEY, slug text)");
            c.createStatement().execute("ALTER TABLE products REPLICA IDENTITY FULL");
        }
        CaptureFixture f = new CaptureFixture(stack, scope);
        String yaml = f.yaml(PRODUCTS, "postgres").replace(stack.postgres().jdbcUrl(scope.database()), replicaLevel.jdbcUrl("postgres"));
        CheckResult r = failed(refused(ConfigLoader.parse("t.yml", yaml, System::getenv)), "wal_level");
        assertTrue(r.message().contains("wal_level is replica"), r.message());
        assertEquals("ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL", r.fix());
    }

    @Test
    void theRoleNeedsReplication(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        String role = "norep_" + scope.id();
        f.sql("CREATE ROLE " + role + " LOGIN", "CREATE TABLE products (id int PRIMARY KEY, slug text)",
                "ALTER TABLE products REPLICA IDENTITY FULL", "ALTER TABLE products OWNER TO " + role);
        CheckResult r = failed(refused(f.config(PRODUCTS, role)), "replication role");
        assertTrue(r.message().contains("lacks the REPLICATION attribute"), r.message());
        assertEquals("ALTER ROLE " + role + " REPLICATION;", r.fix());
    }

    /**
     * Amazon RDS grants replication through membership of rds_replication, never the REPLICATION
     * attribute: a PostgreSQL with RDS's roles and a role set up as RDS's documentation says
     * passes every check, as lethe doctor shows them.
     */
    @Test
    void anRdsLikeRoleReplicatesThroughMembership(EmbeddedStack stack, TestScope scope) throws Exception {
        PostgresEndpoint rds = stack.startExtraPostgres("rds-like-" + scope.id(), Map.of("wal_level", "logical"));
        String user = "lethe_rds";
        try (Connection c = DriverManager.getConnection(rds.jdbcUrl("postgres"), rds.user(), rds.password());
                Statement s = c.createStatement()) {
            for (String sql : List.of("CREATE ROLE rds_superuser NOLOGIN", "CREATE ROLE rds_replication NOLOGIN",
                    "CREATE ROLE " + user + " LOGIN", "GRANT rds_replication TO " + user, "GRANT CREATE ON DATABASE postgres TO " + user,
                    "CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                    "ALTER TABLE products OWNER TO " + user,
                    // as docs/managed-postgres.md has it: the master user creates the publication
                    "CREATE TABLE lethe_heartbeat (slot text PRIMARY KEY, ts timestamptz NOT NULL)",
                    "ALTER TABLE lethe_heartbeat OWNER TO " + user,
                    "CREATE PUBLICATION " + scope.publication()
                            + " FOR TABLE products, lethe_heartbeat WITH (publish_via_partition_root = true)")) {
                s.execute(sql);
            }
        }
        CaptureFixture f = new CaptureFixture(stack, scope);
        String yaml = f.yaml(PRODUCTS, user).replace(stack.postgres().jdbcUrl(scope.database()), rds.jdbcUrl("postgres"));
        try (Connection c = DriverManager.getConnection(rds.jdbcUrl("postgres"), user, rds.password())) {
            assertEquals(ManagedPostgres.RDS, ManagedPostgres.detect(c));
            List<CheckResult> results = new DatabaseChecks(ConfigLoader.parse("t.yml", yaml, System::getenv)).run(c);
            CheckResult role = results.stream().filter(r -> r.check().equals("replication role")).findFirst().orElseThrow();
            assertEquals(CheckResult.Status.PASS, role.status(), role.toString());
            assertTrue(role.message().contains("a member of rds_replication"), role.message());
            results.forEach(r -> assertTrue(r.status() != CheckResult.Status.FAIL, "on RDS: " + r));
        }
    }

    /**
     * Logical replication before PostgreSQL 18 never publishes a GENERATED column: a key, version or
     * payload built from one would be missing from every change (each change widened to the
     * template's glob, deleted at 2^64 - 1, or its upsert turned into a delete). Refused with the fix.
     */
    @Test
    void aNamespaceMayNotUseAGeneratedColumn(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text, lower_slug text GENERATED ALWAYS AS (lower(slug)) STORED)",
                "ALTER TABLE products REPLICA IDENTITY FULL");
        CheckResult r = failed(
                refused(f.config("product: { table: public.products, keys: [\"product:{id}\", \"product:slug:{lower_slug}\"] }")),
                "table public.products");
        assertTrue(r.message().contains("GENERATED column(s) [lower_slug]"), r.message());
        assertTrue(r.fix().contains("DROP EXPRESSION"), r.fix());
    }

    @Test
    void aConfiguredTableMustExist(EmbeddedStack stack, TestScope scope) {
        CaptureFixture f = new CaptureFixture(stack, scope);
        CheckResult r = failed(refused(f.config(PRODUCTS)), "table public.products");
        assertTrue(r.message().contains("does not exist"), r.message());
    }

    /**
     * PostgreSQL publishes the changes of permanent tables only: an UNLOGGED table, a view, a
     * materialized view, a foreign table, a system catalog, or a partitioned table with an UNLOGGED
     * or foreign partition never reaches capture. Each is refused by the start-up checks with the
     * table and the fix (it used to end start-up in a raw SQLException from CREATE PUBLICATION, or
     * in "does not exist").
     */
    @Test
    void aTablePostgresCannotPublishIsRefusedWithTheTableAndTheFix(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE UNLOGGED TABLE u_items (id int PRIMARY KEY)",
                "CREATE TABLE base (id int PRIMARY KEY)",
                "CREATE VIEW v_items AS SELECT id FROM base",
                "CREATE MATERIALIZED VIEW m_items AS SELECT id FROM base",
                "CREATE FOREIGN DATA WRAPPER lethe_fdw_" + scope.id(),
                "CREATE SERVER lethe_srv_" + scope.id() + " FOREIGN DATA WRAPPER lethe_fdw_" + scope.id(),
                "CREATE FOREIGN TABLE f_items (id int) SERVER lethe_srv_" + scope.id(),
                "CREATE TABLE pu_items (id int PRIMARY KEY) PARTITION BY RANGE (id)",
                "CREATE TABLE pu_items_p0 PARTITION OF pu_items FOR VALUES FROM (0) TO (100)",
                "CREATE UNLOGGED TABLE pu_items_p1 PARTITION OF pu_items FOR VALUES FROM (100) TO (200)",
                "CREATE TABLE pf_items (id int) PARTITION BY RANGE (id)",
                "CREATE FOREIGN TABLE pf_items_p0 PARTITION OF pf_items FOR VALUES FROM (0) TO (100) SERVER lethe_srv_" + scope.id());
        Map<String, List<String>> expected = new LinkedHashMap<>();
        expected.put("public.u_items", List.of("UNLOGGED", "ALTER TABLE public.u_items SET LOGGED;"));
        expected.put("public.v_items", List.of("is a view", "namespaces.x.table"));
        expected.put("public.m_items", List.of("is a materialized view", "namespaces.x.table"));
        expected.put("public.f_items", List.of("is a foreign table", "namespaces.x.table"));
        expected.put("pg_catalog.pg_class", List.of("system catalog", "namespaces.x.table"));
        expected.put("public.pu_items", List.of("public.pu_items_p1", "ALTER TABLE public.pu_items_p1 SET LOGGED;"));
        expected.put("public.pf_items", List.of("public.pf_items_p0", "ALTER TABLE public.pf_items DETACH PARTITION public.pf_items_p0;"));
        expected.forEach((table, words) -> {
            String key = table.equals("pg_catalog.pg_class") ? "{oid}" : "{id}";
            CheckResult r = failed(refused(f.config("x: { table: " + table + ", keys: [\"x:" + key + "\"] }")), "table " + table);
            assertTrue(r.message().contains(table) && r.message().contains(words.get(0)), table + ": " + r.message());
            assertTrue(r.fix().contains(words.get(1)), table + ": " + r.fix());
        });
    }

    /**
     * Siblings of a table PostgreSQL cannot publish: a heartbeat table made UNLOGGED by hand (no
     * heartbeat would ever be decoded), and a partition configured beside its partitioned table
     * (the publication publishes its changes under the parent's name, so its own namespace never
     * sees one).
     */
    @Test
    void anUnloggedHeartbeatTableAndAPartitionBesideItsParentAreRefused(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE UNLOGGED TABLE lethe_heartbeat (slot text PRIMARY KEY, ts timestamptz NOT NULL)",
                "CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                "CREATE TABLE orders (id int PRIMARY KEY) PARTITION BY RANGE (id)",
                "CREATE TABLE orders_p0 PARTITION OF orders FOR VALUES FROM (0) TO (100)");
        CheckResult heartbeat = failed(refused(f.config(PRODUCTS)), "heartbeat table");
        assertTrue(heartbeat.message().contains("UNLOGGED"), heartbeat.message());
        assertTrue(heartbeat.fix().contains("ALTER TABLE public.lethe_heartbeat SET LOGGED;"), heartbeat.fix());
        f.sql("ALTER TABLE lethe_heartbeat SET LOGGED");
        CheckResult partition = failed(refused(f.config("""
                order: { table: public.orders, keys: ["order:{id}"] }
                order_p0: { table: public.orders_p0, keys: ["order0:{id}"] }
                """)), "table public.orders_p0");
        assertTrue(partition.message().contains("is a partition of public.orders"), partition.message());
        assertTrue(partition.fix().contains("public.orders"), partition.fix());
    }

    @Test
    void everyTemplateColumnMustExist(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, name text)", "ALTER TABLE products REPLICA IDENTITY FULL");
        CheckResult r = failed(refused(f.config(PRODUCTS)), "table public.products");
        assertTrue(r.message().contains("[slug]"), r.message());
        assertTrue(r.fix().contains("namespaces.product"), r.fix());
    }

    @Test
    void nonKeyTemplateColumnsNeedTheOldRowImage(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)");
        CheckResult r = failed(refused(f.config(PRODUCTS)), "table public.products");
        assertTrue(r.message().contains("REPLICA IDENTITY is DEFAULT"), r.message());
        assertTrue(r.fix().contains("ALTER TABLE public.products REPLICA IDENTITY FULL;"), r.fix());
    }

    @Test
    void theSlotMustNotBeInUseByAReaderOtherThanALetheCapture(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                "CREATE PUBLICATION " + scope.publication() + " FOR TABLE products",
                "SELECT pg_create_logical_replication_slot('" + scope.slot() + "', 'pgoutput')");
        LetheConfig config = f.config(PRODUCTS);
        // a foreign logical replication reader holds the slot (no capture lock): capture refuses to start
        Properties props = new Properties();
        props.setProperty("user", stack.postgres().user());
        if (stack.postgres().password() != null) {
            props.setProperty("password", stack.postgres().password());
        }
        props.setProperty("replication", "database");
        props.setProperty("assumeMinServerVersion", "10");
        props.setProperty("preferQueryMode", "simple");
        try (Connection replication = DriverManager.getConnection(stack.postgres().jdbcUrl(scope.database()), props);
                PGReplicationStream stream = replication.unwrap(PGConnection.class)
                        .getReplicationAPI().replicationStream().logical().withSlotName(scope.slot())
                        .withSlotOption("proto_version", 1).withSlotOption("publication_names", scope.publication()).start()) {
            CheckResult r = failed(refused(config), "slot");
            assertTrue(r.message().contains("in use by another reader"), r.message());
            assertTrue(r.fix().contains("pg_terminate_backend"), r.fix());
        }
    }

    @Test
    void aSecondLetheCaptureOnTheSlotStandsByInsteadOfFailing(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL");
        LetheConfig config = f.config(PRODUCTS);
        try (CaptureService first = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC());
                CaptureService second = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            first.start();
            second.start();
            assertTrue(second.isStandingBy(), "the first holds the slot's capture lock");
            assertTrue(first.isStreaming());
        }
    }

    @Test
    void unlimitedSlotWalIsAWarningNotARefusal(EmbeddedStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL");
        try (Connection c = f.connect()) {
            List<CheckResult> results = new DatabaseChecks(f.config(PRODUCTS)).run(c);
            CheckResult keep = results.stream().filter(r -> r.check().equals("max_slot_wal_keep_size")).findFirst().orElseThrow();
            assertEquals(CheckResult.Status.WARN, keep.status());
            assertTrue(keep.fix().contains("max_slot_wal_keep_size"));
            assertTrue(results.stream().noneMatch(r -> r.status() == CheckResult.Status.FAIL), results.toString());
        }
    }
}
