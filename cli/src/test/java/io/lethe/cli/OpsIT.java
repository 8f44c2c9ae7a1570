package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** lethe doctor, invalidate, lag and dlq replay against the embedded stack. */
@ExtendWith(LetheStackExtension.class)
class OpsIT {
    private static final List<String> REGIONS = List.of("us-east", "eu-west");

    record Result(int exit, String out, String err) {
    }

    static Result lethe(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Lethe.commandLine(new Lethe());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static Path write(Path dir, String name, String yaml) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, yaml);
        return file;
    }

    private static String products(String prefix) {
        return "product: { table: public.products, keys: [\"" + prefix + "product:{id}\", \"" + prefix + "product:slug:{slug}\"] }";
    }

    @Test
    void prewarmCopiesASiblingsEntriesAndRefusesWhatItCannotProveFresh(EmbeddedStack stack, TestScope scope, @TempDir Path dir)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                    "INSERT INTO products VALUES (1, 'a'), (2, 'b'), (3, 'c')");
            String yaml = f.yaml(REGIONS, products(p), "http: { port: 0 }");
            Path file = write(dir, "lethe.yml", yaml);
            Result unknown = lethe("prewarm", "--config", file.toString(), "--from", "us-east", "--to", "mars");
            assertEquals(2, unknown.exit());
            assertTrue(unknown.err().contains("no region 'mars'") && unknown.err().contains("eu-west"), unknown.err());
            RedisCommands<String, String> east = f.redis("us-east");
            RedisCommands<String, String> west = f.redis("eu-west");
            east.hset(p + "product:1", java.util.Map.of("v", "0", "d", "one"));
            Result noConsumer = lethe("prewarm", "--config", file.toString(), "--from", "us-east", "--to", "eu-west");
            assertEquals(2, noConsumer.exit(), "without the source's consumer nothing can be proven fresh");
            assertTrue(noConsumer.err().contains("records no configuration it was fed under"), noConsumer.err());

            LetheConfig config = f.config(yaml);
            f.start(config);
            // us-east's first feed invalidated what its Redis held before (f.start waits for it): filled again after it
            east.hset(p + "product:1", java.util.Map.of("v", "0", "d", "one"));
            String watermark = io.lethe.schemas.redis.AppliedLsn.key(io.lethe.region.RegionConsumerService.groupId(config, "us-east"));
            Await.until("us-east publishes its applied watermark", Duration.ofSeconds(60),
                    () -> io.lethe.schemas.redis.AppliedLsn.of(east.hgetall(watermark)).isPresent());
            east.hset(p + "product:2", java.util.Map.of("v", "0", "d", "two"));
            east.set(p + "product:slug:c", "three"); // a legacy entry
            f.sql("UPDATE products SET slug = 'b2' WHERE id = 2"); // eu-west applies it; the copy must not land
            Await.until("eu-west applies the change", Duration.ofSeconds(60),
                    () -> west.exists(RedisLayout.fenceKey(p + "product:2")) == 1);
            east.hset(p + "product:2", java.util.Map.of("v", "0", "d", "two")); // as if us-east had not applied it yet
            Result run = lethe("prewarm", "--config", file.toString(), "--from", "us-east", "--to", "eu-west", "--namespace", "product");
            assertEquals(0, run.exit(), run.err());
            assertTrue(run.out().contains("copied 2"), run.out());
            assertTrue(run.out().contains("invalidated them recently 1"), run.out());
            assertTrue(run.err().contains("[##############################] 3/3"), "a progress bar: " + run.err());
            assertEquals("one", west.hget(p + "product:1", "d"));
            assertEquals("three", west.get(p + "product:slug:c"), "legacy entries stay strings");
            assertEquals(0, west.exists(p + "product:2"), "eu-west applied a change of product 2 the copy may predate");
        }
    }

    /**
     * kafka.create-topics: false: lethe run refuses with the one message naming every missing topic
     * (not a stack trace), lethe doctor reports the same as a FAIL, and once an administrator created
     * the topics as TopicSpec says (what `lethe topics --print` prints), doctor passes them.
     */
    @Test
    void doctorAndRunReportTheTopicsALockedDownClusterLacks(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL");
            String yaml = f.yaml(REGIONS, products(scope.keyPrefix()), "").replace("  partitions: 3\n",
                    "  partitions: 3\n  create-topics: false\n");
            Path file = write(dir, "locked.yml", yaml);
            String changes = scope.topicPrefix() + ".changes";

            Result run = lethe("run", "--config", file.toString(), "--role", "region:us-east", "--http-port", "0");
            assertEquals(1, run.exit(), run.out() + run.err());
            assertTrue(
                    run.err().contains("kafka.create-topics is false in " + file)
                            && run.err().contains("is missing (expected partitions 3"),
                    run.err());

            Result doctor = lethe("doctor", "--config", file.toString());
            assertEquals(1, doctor.exit(), doctor.out());
            assertTrue(doctor.out().contains("FAIL  kafka topics") && doctor.out().contains(changes + " is missing (expected partitions 3")
                    && doctor.out().contains(scope.topicPrefix() + ".capture.offsets is missing"), doctor.out());

            LetheConfig config = f.config(yaml);
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                    Map.of("bootstrap.servers", stack.kafkaBootstrapServers()))) {
                admin.createTopics(io.lethe.stage.kafka.TopicSpec.all(config).stream()
                        .map(spec -> new org.apache.kafka.clients.admin.NewTopic(
                                spec.name(), java.util.Optional.ofNullable(spec.partitions()),
                                java.util.Optional.ofNullable(spec.replicationFactor()))
                                .configs(spec.configs()))
                        .toList()).all().get();
            }
            Result fixed = lethe("doctor", "--config", file.toString());
            assertTrue(fixed.out().contains("PASS  kafka topics"), fixed.out());
        }
    }

    @Test
    void doctorPassesAHealthySetupAndNamesTheFixForEachFailure(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL");
            String healthy = f.yaml(REGIONS, products(scope.keyPrefix()), "");
            Result ok = lethe("doctor", "--config", write(dir, "ok.yml", healthy).toString());
            assertEquals(0, ok.exit(), ok.out() + ok.err());
            assertTrue(ok.out().contains("PASS  wal_level"), ok.out());
            assertTrue(ok.out().contains("PASS  redis us-east"), ok.out());
            assertTrue(ok.out().contains("PASS  kafka"), ok.out());

            // the replica identity is missing
            f.sql("ALTER TABLE products REPLICA IDENTITY DEFAULT");
            assertFailure(dir, "identity.yml", healthy, "table public.products", "ALTER TABLE public.products REPLICA IDENTITY FULL;");
            f.sql("ALTER TABLE products REPLICA IDENTITY FULL");

            // PostgreSQL does not publish an UNLOGGED table: doctor names it and the fix, and lethe run
            // refuses to start with the same lines, not a stack trace
            f.sql("ALTER TABLE products SET UNLOGGED");
            assertFailure(dir, "unlogged.yml", healthy, "table public.products", "ALTER TABLE public.products SET LOGGED;");
            Result run = lethe("run", "--config", write(dir, "run-unlogged.yml", healthy).toString(), "--role", "capture");
            assertEquals(1, run.exit(), run.out() + run.err());
            assertTrue(run.err().contains("ALTER TABLE public.products SET LOGGED;"), run.err());
            assertTrue(!run.err().contains("\tat ") && !run.err().contains("Exception"), "no stack trace:\n" + run.err());
            f.sql("ALTER TABLE products SET LOGGED");

            // a key template column whose type has no defined rendering (issue 27, item 15): doctor and
            // lethe run name the table, column, type and the fix
            f.sql("ALTER TABLE products ALTER COLUMN slug TYPE interval USING '1 day'::interval");
            assertFailure(dir, "render.yml", healthy, "table public.products", "ALTER TABLE public.products ADD COLUMN slug_key text");
            Result doctor = lethe("doctor", "--config", write(dir, "render2.yml", healthy).toString());
            assertTrue(doctor.out().contains("column public.products.slug, whose type interval has no defined key rendering"),
                    doctor.out());
            Result runRender = lethe("run", "--config", write(dir, "run-render.yml", healthy).toString(), "--role", "capture");
            assertEquals(1, runRender.exit(), runRender.out() + runRender.err());
            assertTrue(runRender.err().contains("ALTER TABLE public.products ADD COLUMN slug_key text"), runRender.err());
            assertTrue(!runRender.err().contains("\tat ") && !runRender.err().contains("Exception"), "no stack trace:\n" + runRender.err());
            f.sql("ALTER TABLE products ALTER COLUMN slug TYPE text USING slug::text");

            // a configured table does not exist
            assertFailure(dir, "table.yml", healthy.replace("public.products", "public.productz"), "table public.productz", "create it");

            // the role cannot replicate
            f.sql("CREATE ROLE norep_" + scope.id() + " LOGIN");
            assertFailure(dir, "role.yml", healthy.replace("user: postgres", "user: norep_" + scope.id()), "replication role",
                    "ALTER ROLE norep_" + scope.id() + " REPLICATION;");

            // wal_level is not logical
            PostgresEndpoint replicaLevel = stack.startExtraPostgres("doctor-" + scope.id(), Map.of("wal_level", "replica"));
            assertFailure(dir, "wal.yml", healthy.replace(stack.postgres().jdbcUrl(scope.database()), replicaLevel.jdbcUrl("postgres")),
                    "wal_level", "ALTER SYSTEM SET wal_level = logical");

            // Kafka is not there
            assertFailure(dir, "kafka.yml", healthy.replace(stack.kafkaBootstrapServers(), "127.0.0.1:1"), "kafka",
                    "check kafka.bootstrap-servers");

            // a region's Redis is not there
            assertFailure(dir, "redis.yml", healthy.replace(stack.redisUri("eu-west"), "redis://127.0.0.1:1"), "redis eu-west",
                    "check regions.eu-west.redis");

            // a region's Redis evicts keys with a TTL first: fences go before the entries they protect
            var eu = f.redis("eu-west");
            eu.configSet("maxmemory", "512mb");
            eu.configSet("maxmemory-policy", "volatile-lru");
            try {
                assertFailure(dir, "eviction.yml", healthy, "redis eu-west eviction", "CONFIG SET maxmemory-policy allkeys-lru");
            } finally {
                eu.configSet("maxmemory-policy", "noeviction");
                eu.configSet("maxmemory", "0");
            }

            // a cluster configured as standalone
            assertFailure(dir, "cluster.yml", healthy.replace(stack.redisUri("eu-west"), stack.redisClusterUri()), "redis eu-west",
                    "set regions.eu-west.topology: cluster");
        }
    }

    /**
     * An RDS-like PostgreSQL (RDS's roles; the capture role replicates through membership of
     * rds_replication; the master user made the publication): doctor passes, and with logical
     * replication off it names the parameter-group fix, not ALTER SYSTEM.
     */
    @Test
    void doctorPassesAnRdsLikeSetupAndNamesTheParameterGroupFix(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String healthy = f.yaml(REGIONS, products(scope.keyPrefix()), "");
            String user = "lethe_rds_" + scope.id();
            for (String walLevel : List.of("logical", "replica")) {
                PostgresEndpoint rds = stack.startExtraPostgres("rds-" + walLevel + "-" + scope.id(), Map.of("wal_level", walLevel));
                try (java.sql.Connection c = java.sql.DriverManager.getConnection(rds.jdbcUrl("postgres"), rds.user(), rds.password());
                        java.sql.Statement st = c.createStatement()) {
                    for (String sql : List.of("CREATE ROLE rds_superuser NOLOGIN", "CREATE ROLE rds_replication NOLOGIN",
                            "CREATE ROLE " + user + " LOGIN", "GRANT rds_replication TO " + user,
                            "CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                            "CREATE TABLE lethe_heartbeat (slot text PRIMARY KEY, ts timestamptz NOT NULL)",
                            "ALTER TABLE products OWNER TO " + user, "ALTER TABLE lethe_heartbeat OWNER TO " + user,
                            "CREATE PUBLICATION " + scope.publication() + " FOR TABLE products, lethe_heartbeat")) {
                        st.execute(sql);
                    }
                }
                String yaml = healthy.replace(stack.postgres().jdbcUrl(scope.database()), rds.jdbcUrl("postgres"))
                        .replace("user: postgres", "user: " + user);
                if (walLevel.equals("logical")) {
                    Result ok = lethe("doctor", "--config", write(dir, "rds.yml", yaml).toString());
                    assertEquals(0, ok.exit(), ok.out() + ok.err());
                    assertTrue(ok.out().contains("PASS  replication role") && ok.out().contains("a member of rds_replication, Amazon RDS"),
                            ok.out());
                } else {
                    assertFailure(dir, "rds-wal.yml", yaml, "wal_level",
                            "in the instance's DB parameter group set rds.logical_replication = 1");
                }
            }
        }
    }

    /**
     * The DLQ holds row data (issue 34): Lethe creates it with kafka.dlq-retention (3 days) while the
     * pipeline topics keep kafka.retention, and doctor reports an existing DLQ kept longer; --strict
     * makes warnings fail the run (a deployment gate). The loopback stack's plaintext hops pass with a note.
     */
    @Test
    void theDlqIsCreatedWithItsOwnRetentionAndDoctorReportsOneKeptLonger(EmbeddedStack stack, TestScope scope, @TempDir Path dir)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL");
            String yaml = f.yaml(REGIONS, products(scope.keyPrefix()), "");
            LetheConfig config = f.config(yaml);
            io.lethe.stage.kafka.TopicSetup.ensure(config, io.lethe.config.KafkaRole.CLI,
                    io.lethe.stage.kafka.TopicSetup.pipelineTopics(config), Duration.ofSeconds(30));
            try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
                    io.lethe.config.KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "ops-it-dlq"))) {
                assertEquals(Duration.ofDays(3).toMillis(), retentionMs(admin, config.topics().dlq()));
                assertEquals(Duration.ofDays(7).toMillis(), retentionMs(admin, config.topics().changes()));
                assertEquals(Duration.ofDays(7).toMillis(), retentionMs(admin, config.topics().invalidations()));

                Path file = write(dir, "dlq.yml", yaml);
                Result ok = lethe("doctor", "--config", file.toString());
                assertEquals(0, ok.exit(), ok.out() + ok.err());
                assertTrue(ok.out().contains("PASS  kafka dlq retention"), ok.out());
                assertTrue(ok.out().contains("PASS  kafka transport") && ok.out().contains("to loopback only"), ok.out());

                org.apache.kafka.common.config.ConfigResource dlq = new org.apache.kafka.common.config.ConfigResource(
                        org.apache.kafka.common.config.ConfigResource.Type.TOPIC, config.topics().dlq());
                admin.incrementalAlterConfigs(Map.of(dlq, List.of(new org.apache.kafka.clients.admin.AlterConfigOp(
                        new org.apache.kafka.clients.admin.ConfigEntry("retention.ms", Long.toString(Duration.ofDays(7).toMillis())),
                        org.apache.kafka.clients.admin.AlterConfigOp.OpType.SET)))).all().get();
                Result week = lethe("doctor", "--config", file.toString());
                assertEquals(0, week.exit(), "a warning: " + week.out());
                assertTrue(week.out().contains("WARN  kafka dlq retention") && week.out().contains("--entity-name " + config.topics().dlq()
                        + " --add-config retention.ms=259200000"), week.out());
                Result strict = lethe("doctor", "--strict", "--config", file.toString());
                assertEquals(1, strict.exit(), strict.out());
                assertTrue(strict.out().contains(" 0 failed,"), "no FAIL: --strict fails on the warnings\n" + strict.out());
            }
        }
    }

    private static long retentionMs(org.apache.kafka.clients.admin.Admin admin, String topic) throws Exception {
        org.apache.kafka.common.config.ConfigResource r = new org.apache.kafka.common.config.ConfigResource(
                org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
        return Long.parseLong(admin.describeConfigs(List.of(r)).all().get().get(r).get("retention.ms").value());
    }

    private static void assertFailure(Path dir, String name, String yaml, String check, String fix) throws Exception {
        Result r = lethe("doctor", "--config", write(dir, name, yaml).toString());
        assertEquals(1, r.exit(), name + ":\n" + r.out() + r.err());
        String line = r.out().lines().filter(l -> l.startsWith("FAIL  " + check)).findFirst()
                .orElseThrow(() -> new AssertionError(name + ": no FAIL for " + check + " in\n" + r.out()));
        int at = r.out().indexOf(line);
        String next = r.out().substring(at + line.length()).lines().filter(l -> !l.isBlank()).findFirst().orElse("");
        assertTrue(next.contains("fix:") && next.contains(fix), name + ": expected fix '" + fix + "' after\n" + line + "\n" + next);
    }

    @Test
    void invalidateLagAndDlqReplayThroughThePipeline(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                    "CREATE TABLE orders (id int PRIMARY KEY)", "INSERT INTO products VALUES (1, 'a')");
            String yaml = f.yaml(REGIONS, products(p), "http: { port: 0 }");
            Path file = write(dir, "lethe.yml", yaml);
            LetheConfig config = f.config(yaml);
            f.start(config);
            RedisCommands<String, String> east = f.redis("us-east");
            RedisCommands<String, String> west = f.redis("eu-west");

            // a manual purge of one key, through the pipeline, in every region
            east.set(p + "product:42", "cached");
            west.set(p + "product:42", "cached");
            Result purge = lethe("invalidate", "--config", file.toString(), "--namespace", "product", "--key", p + "product:42");
            assertEquals(0, purge.exit(), purge.err());
            Await.until("the purge in both regions", Duration.ofSeconds(60),
                    () -> east.exists(RedisLayout.fenceKey(p + "product:42")) == 1
                            && west.exists(RedisLayout.fenceKey(p + "product:42")) == 1);
            assertEquals(0, east.exists(p + "product:42") + west.exists(p + "product:42"));
            // on the public topic (both regions read it) the purge carries CloudEvents' headers like streams' records
            Map<String, String> ce = publicHeaders(config, p + "product:42");
            assertEquals("1.0", ce.get("ce_specversion"), ce.toString());
            assertEquals("io.lethe.invalidation.v1", ce.get("ce_type"), ce.toString());
            assertEquals(p + "product:42", ce.get("ce_subject"), ce.toString());
            assertEquals("/lethe/" + scope.topicPrefix(), ce.get("ce_source"), ce.toString());

            // a match-all pattern is refused, --force or not (regions refuse it as foreign-pattern: it reaches other namespaces)
            Result all = lethe("invalidate", "--config", file.toString(), "--namespace", "product", "--pattern", "*", "--force");
            assertEquals(2, all.exit());
            assertTrue(all.err().contains("every key in Redis"), all.err());

            // lag: eu-west's Redis stops answering while changes flow, once eu-west has applied a
            // heartbeat (before one, its end-to-end lag is unknown, not large)
            String westWatermark = io.lethe.schemas.redis.AppliedLsn.key(io.lethe.region.RegionConsumerService.groupId(config, "eu-west"));
            Await.until("eu-west applies a heartbeat", Duration.ofSeconds(60),
                    () -> io.lethe.schemas.redis.AppliedLsn.of(west.hgetall(westWatermark)).isPresent());
            stack.pauseRedis("eu-west");
            try {
                f.sql("UPDATE products SET slug = 'b' WHERE id = 1");
                Await.until("us-east applies it", Duration.ofSeconds(60), () -> east.exists(RedisLayout.fenceKey(p + "product:1")) == 1);
                Await.until("eu-west shows lag", Duration.ofSeconds(60), () -> lagOf(file, "eu-west") > 0);
                Await.until("lethe lag puts eu-west's backlog at the region", Duration.ofSeconds(60),
                        () -> column(file, "eu-west", BACKLOG_COLUMN).equals("region"));
                String table = lethe("lag", "--config", file.toString(), "--metrics", "http://127.0.0.1:1/metrics").out();
                // us-east keeps up: no backlog there (its record lag is never quite 0: watermarks arrive every second)
                assertTrue(table.lines().anyMatch(l -> l.startsWith("us-east") && l.split("\\s+")[BACKLOG_COLUMN].equals("-")), table);
            } finally {
                stack.resumeRedis("eu-west");
            }
            Await.until("eu-west catches up", Duration.ofSeconds(60), () -> column(file, "eu-west", BACKLOG_COLUMN).equals("-"));
        }
    }

    @Test
    void dlqReplayRepublishesWhatStreamsCouldNotMapOnceTheConfigIsFixed(EmbeddedStack stack, TestScope scope, @TempDir Path dir)
            throws Exception {
        String p = scope.keyPrefix();
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                    "CREATE TABLE orders (id int PRIMARY KEY)");
            String without = f.yaml(REGIONS, products(p), "");
            String with = f.yaml(REGIONS, products(p) + "\norder: { table: public.orders, keys: [\"" + p + "order:{id}\"] }", "");
            LetheConfig old = f.config(without);
            // a change of public.orders, as a capture that already knew the table would publish it
            io.lethe.schemas.SourceTable orders = new io.lethe.schemas.SourceTable(scope.database(), "public", "orders");
            io.lethe.schemas.ChangeEvent change = new io.lethe.schemas.ChangeEvent(io.lethe.schemas.ChangeEvent.SCHEMA_ID,
                    "77:public.orders", orders, io.lethe.schemas.Op.CREATE, Map.of("id", 7), null, Map.of("id", 7), "77", 77, 1L,
                    System.currentTimeMillis() * 1000, System.currentTimeMillis() * 1000, null, null);
            io.lethe.stage.kafka.TopicSetup.ensure(old, io.lethe.config.KafkaRole.CLI,
                    io.lethe.stage.kafka.TopicSetup.pipelineTopics(old), Duration.ofSeconds(30));
            try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(
                    Map.of("bootstrap.servers", stack.kafkaBootstrapServers()),
                    new org.apache.kafka.common.serialization.StringSerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(old.topics().changes(), change.recordKey(),
                        io.lethe.schemas.serde.EventJson.write(change))).get();
            }
            Path file = write(dir, "fixed.yml", with);
            try (io.lethe.streams.StreamsService streams = new io.lethe.streams.StreamsService(old,
                    new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), java.time.Clock.systemUTC(), "old")) {
                streams.start();
                Await.until("the unknown table is dead-lettered", Duration.ofSeconds(60),
                        () -> new io.lethe.cli.lag.LagReport(old, java.time.Clock.systemUTC()).dlqByStage().getOrDefault("streams",
                                0L) == 1);
            }
            f.start(f.config(with)); // the fixed configuration knows public.orders
            RedisCommands<String, String> east = f.redis("us-east");
            // dead letters a producer with write access to the DLQ forged: one naming a topic this configuration does not
            // own as its source, one carrying an invalidation of a lethe: key to a region topic (trust no topic)
            LetheConfig fixed = f.config(with);
            io.lethe.schemas.InvalidationEvent fence = new io.lethe.schemas.InvalidationEvent(io.lethe.schemas.InvalidationEvent.SCHEMA_ID,
                    "forged", "product", io.lethe.schemas.Scope.ROW, "lethe:fence:{x}:x", null, io.lethe.schemas.Action.DELETE, null, "5",
                    5,
                    null, 1, 1, 1, null, io.lethe.schemas.Op.UPDATE, null, null);
            try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(
                    Map.of("bootstrap.servers", stack.kafkaBootstrapServers()),
                    new org.apache.kafka.common.serialization.StringSerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                for (String[] forged : new String[][] {{"payments.ledger", "malformed"},
                        {fixed.topics().invalidations("us-east"), "unknown-namespace"}}) {
                    var dead = new org.apache.kafka.clients.producer.ProducerRecord<String, byte[]>(fixed.topics().dlq(), "k",
                            io.lethe.schemas.serde.EventJson.write(fence));
                    dead.headers().add(io.lethe.schemas.Headers.DLQ_SOURCE_TOPIC,
                            forged[0].getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    dead.headers().add(io.lethe.schemas.Headers.DLQ_REASON, forged[1].getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    dead.headers().add(io.lethe.schemas.Headers.DLQ_STAGE,
                            "region:us-east".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    producer.send(dead).get();
                }
                // a change no capture published, dead-lettered by whoever can write the DLQ as if it came from the changes topic
                io.lethe.schemas.ChangeEvent madeUp = new io.lethe.schemas.ChangeEvent(io.lethe.schemas.ChangeEvent.SCHEMA_ID,
                        "78:public.orders", orders, io.lethe.schemas.Op.CREATE, Map.of("id", 8), null, Map.of("id", 8), "78", 78, 1L,
                        System.currentTimeMillis() * 1000, System.currentTimeMillis() * 1000, null, null);
                var dead = new org.apache.kafka.clients.producer.ProducerRecord<String, byte[]>(fixed.topics().dlq(), madeUp.recordKey(),
                        io.lethe.schemas.serde.EventJson.write(madeUp));
                dead.headers().add(io.lethe.schemas.Headers.DLQ_SOURCE_TOPIC,
                        fixed.topics().changes().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                dead.headers().add(io.lethe.schemas.Headers.DLQ_SOURCE_PARTITION, "0".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                dead.headers().add(io.lethe.schemas.Headers.DLQ_SOURCE_OFFSET, "0".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                dead.headers().add(io.lethe.schemas.Headers.DLQ_REASON, "unknown-table".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                dead.headers().add(io.lethe.schemas.Headers.DLQ_STAGE, "streams".getBytes(java.nio.charset.StandardCharsets.UTF_8));
                producer.send(dead).get();
            }
            Result dry = lethe("dlq", "replay", "--config", file.toString(), "--dry-run", "--group", scope.id() + "-replay");
            assertTrue(dry.out().contains("would replay 1 record"), dry.out());
            Result replay = lethe("dlq", "replay", "--config", file.toString(), "--group", scope.id() + "-replay");
            assertEquals(0, replay.exit(), replay.err());
            assertTrue(replay.out().contains("replayed 1 record"), replay.out());
            assertTrue(replay.out().contains("payments.ledger is not a topic of this configuration"), replay.out());
            assertTrue(replay.out().contains("refused (reserved-key)"), replay.out());
            assertTrue(replay.out().contains("differs from the record at") || replay.out().contains("cannot be checked"),
                    "a dead letter is replayed only as the record its source topic holds: " + replay.out());
            Await.until("the replayed change's invalidation", Duration.ofSeconds(60),
                    () -> east.exists(RedisLayout.fenceKey(p + "order:7")) == 1);
            Result again = lethe("dlq", "replay", "--config", file.toString(), "--group", scope.id() + "-replay");
            assertTrue(again.out().contains("replayed 0 record"), "each record is replayed once: " + again.out());
        }
    }

    /** REGION, E2E (s), CAPTURE (s), STREAMS (s), BACKLOG AT, LAG (rec), ... */
    private static final int LAG_COLUMN = 5;

    private static final int BACKLOG_COLUMN = 4;

    private static long lagOf(Path file, String region) {
        return Long.parseLong(column(file, region, LAG_COLUMN));
    }

    private static String column(Path file, String region, int column) {
        String table = lethe("lag", "--config", file.toString(), "--metrics", "http://127.0.0.1:1/metrics").out();
        return table.lines().filter(l -> l.startsWith(region)).map(l -> l.trim().split("\\s+")[column]).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + region + " in\n" + table));
    }

    /** The headers of the first record keyed {@code key} on the public topic (read from the start). */
    private static Map<String, String> publicHeaders(LetheConfig config, String key) {
        Map<String, Object> props = io.lethe.config.KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI,
                "ops-it-public");
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
                props, new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<org.apache.kafka.common.TopicPartition> partitions = consumer.partitionsFor(config.topics().invalidations()).stream()
                    .map(i -> new org.apache.kafka.common.TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (var rec : consumer.poll(Duration.ofMillis(200))) {
                    if (key.equals(rec.key())) {
                        Map<String, String> out = new java.util.LinkedHashMap<>();
                        rec.headers().forEach(h -> out.put(h.key(), new String(h.value(), java.nio.charset.StandardCharsets.UTF_8)));
                        return out;
                    }
                }
            }
            throw new AssertionError(key + " never reached " + config.topics().invalidations());
        }
    }
}
