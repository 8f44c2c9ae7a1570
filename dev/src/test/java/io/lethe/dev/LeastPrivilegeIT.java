package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LeastPrivilege;
import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.KafkaAcls;
import io.lethe.config.KafkaClients;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The product under least privilege (issue 34): every role logs in to Kafka as its own SCRAM
 * principal holding exactly the ACLs of {@link KafkaAcls} (the runbook's recipe), capture's
 * PostgreSQL role has only REPLICATION and its heartbeat row (the administrator made the
 * publication and the heartbeat table, {@link LeastPrivilege#postgresPrepared}), and the region
 * consumer's Redis user has only {@link LeastPrivilege#REGION_COMMANDS} on its namespaces' keys and
 * {@code lethe:*}. A row change still reaches the region's Redis; each role is refused what another
 * role may do.
 */
@ExtendWith(LetheStackExtension.class)
class LeastPrivilegeIT {
    private static final String REGION = "us-east";

    @Test
    void aChangeFlowsEndToEndWithOnePrincipalPerRoleUnderTheRunbooksPrivilegesAndEachRoleIsRefusedTheOthersOperations(
            LetheStack stack, TestScope scope) throws Exception {
        String id = scope.id();
        LetheStack.KafkaSasl capture = stack.kafkaScramUser(id + "-capture");
        LetheStack.KafkaSasl streams = stack.kafkaScramUser(id + "-streams");
        LetheStack.KafkaSasl region = stack.kafkaScramUser(id + "-region-" + REGION);
        LetheStack.KafkaSasl cli = stack.kafkaScramUser(id + "-cli");
        LetheStack.KafkaSasl app = stack.kafkaScramUser(id + "-app");
        String captureRole = id + "_capture";
        String readerRole = id + "_reader";
        String redisUser = id + "-region";
        Map<String, String> env = Map.of("K_CAPTURE", capture.password(), "K_STREAMS", streams.password(), "K_REGION", region.password(),
                "K_CLI", cli.password(), "K_APP", app.password(), "PG_CAPTURE", "pg-" + UUID.randomUUID(), "PG_READER",
                "pg-" + UUID.randomUUID(),
                "R_REGION", "redis-" + UUID.randomUUID());
        String p = scope.keyPrefix();
        PostgresEndpoint pg = stack.postgres();
        String yaml = """
                source:
                  jdbc-url: %s
                  user: %s
                  password: ${PG_CAPTURE}
                  reader-user: %s
                  reader-password: ${PG_READER}
                  slot: %s
                  publication: %s
                  create-publication: false
                  heartbeat-interval: 1s
                kafka:
                  bootstrap-servers: %s
                  topic-prefix: %s
                  partitions: 2
                  properties: { security.protocol: SASL_PLAINTEXT, sasl.mechanism: SCRAM-SHA-256 }
                  roles:
                    capture: { user: %s, password: "${K_CAPTURE}" }
                    streams: { user: %s, password: "${K_STREAMS}" }
                    cli: { user: %s, password: "${K_CLI}" }
                    app: { user: %s, password: "${K_APP}" }
                streams:
                  application-id: %s-streams
                  processing-guarantee: exactly_once_v2
                apply:
                  group-prefix: %s-region-
                regions:
                  %s:
                    redis: %s
                    redis-user: %s
                    redis-password: ${R_REGION}
                    kafka: { user: %s, password: "${K_REGION}" }
                namespaces:
                  product: { table: public.products, keys: ["%sproduct:{id}"] }
                  price: { table: public.products, keys: ["%sprice:{id}"], mode: upsert, payload-columns: [price] }
                """.formatted(pg.jdbcUrl(scope.database()), captureRole, readerRole, scope.slot(), scope.publication(),
                stack.kafkaSasl().bootstrapServers(), scope.topicPrefix(), capture.user(), streams.user(), cli.user(), app.user(), id, id,
                REGION,
                stack.redisUri(REGION), redisUser, region.user(), p, p);
        LetheConfig config = ConfigLoader.parse(id + "-lethe.yml", yaml, env::get);
        for (String secret : env.values()) {
            assertTrue(!config.toString().contains(secret), "no secret in the configuration's toString");
        }

        List<AclBinding> acls = new ArrayList<>();
        KafkaAcls.roles(config).forEach(role -> acls.addAll(KafkaAcls.bindings(config, role)));
        PipelineFixture f = new PipelineFixture(stack, scope);
        try (Admin superAdmin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            RedisCommands<String, String> redisAdmin = f.redis(REGION);
            try {
                superAdmin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
                // row 2 exists too: the application's purge of its key below must be what removes it, not the region's sweep
                f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10), (2, 20)");
                f.sql(LeastPrivilege.postgresPrepared(config, captureRole, env.get("PG_CAPTURE"), readerRole, env.get("PG_READER"))
                        .toArray(String[]::new));
                List<String> setUser = LeastPrivilege.redisRegionUserArgs(config, config.region(REGION), redisUser, env.get("R_REGION"));
                assertEquals("OK", redisAdmin.dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8),
                        new CommandArgs<>(StringCodec.UTF8).add("SETUSER").addValues(setUser)));

                String key = p + "product:1";
                redisAdmin.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":10}"));
                f.start(config);
                f.sql("UPDATE products SET price = 11 WHERE id = 1");
                Await.until("the fence of " + key + " written under the region's ACL user", Duration.ofSeconds(90),
                        () -> redisAdmin.exists(RedisLayout.fenceKey(key)) == 1);
                assertEquals(0, redisAdmin.exists(key), "the write in PostgreSQL deleted the entry in the region's Redis");

                // the restore guard (DBSIZE, its checkpoint scripts) works under the ACL user too: without it no checkpoint
                // and no applied watermark are written, and read-your-writes tokens are never covered
                String applied = io.lethe.schemas.redis.AppliedLsn.key(io.lethe.region.RegionConsumerService.groupId(config, REGION));
                Await.until("the applied watermark published under the region's ACL user", Duration.ofSeconds(60),
                        () -> io.lethe.schemas.redis.AppliedLsn.of(redisAdmin.hgetall(applied)).isPresent());
                assertTrue(redisAdmin.clientList().contains("user=" + redisUser), "the region is connected as " + redisUser);
                // an upsert namespace, once heartbeats came (before them an upsert is applied as a delete): the upsert script,
                // and the holds record read back after it (UpsertHolds), under the ACL user
                String priceHolds = RedisLayout.holds(config.namespaces().get("price").readerHolds());
                Await.until("the first feed recorded what the entries hold, under the region's ACL user", Duration.ofSeconds(90),
                        () -> priceHolds.equals(redisAdmin.get(RedisLayout.holdsKey("price"))));
                f.sql("UPDATE products SET price = 12 WHERE id = 1");
                Await.until("the upsert of " + p + "price:1 written under the region's ACL user", Duration.ofSeconds(90),
                        () -> String.valueOf(redisAdmin.hget(p + "price:1", RedisLayout.ENTRY_DATA)).contains("12"));

                // the region's sweep (on by default) reads rows as the reader role and its Redis as the region's ACL user
                Await.until("the region's sweep to judge keys under the reader role and the region's ACL user", Duration.ofSeconds(60),
                        () -> sweep(f, RegionMeterNames.SWEEP_KEYS, "result", "checked") >= 1);
                assertEquals(0, sweep(f, RegionMeterNames.SWEEP_ERRORS, "cause", "database"), "the reader role may read the rows");
                assertEquals(0, sweep(f, RegionMeterNames.SWEEP_ERRORS, "cause", "redis"), "the region's ACL user may sweep");

                refusedOtherRolesOperations(config, f, stack, redisUser, env.get("R_REGION"), captureRole, readerRole);

                // an application's purge (cache-client Invalidations, Spring @CacheEvict) as principal app, without the
                // signing key: requested on the request topic, routed by streams, it reaches the region; the same principal
                // cannot write the changes topic, nor any invalidation topic (streams routes its purges)
                String purged = p + "product:2";
                redisAdmin.hset(purged, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{}"));
                try (io.lethe.cache.Invalidations invalidations = io.lethe.cache.Invalidations.of(config)) {
                    invalidations.invalidate("product", purged);
                }
                Await.until("the application's purge applied", Duration.ofSeconds(60), () -> redisAdmin.exists(purged) == 0);
                Map<String, Object> appProps = KafkaClients.common(config.kafka(), KafkaRole.APP, "lp-app-forge");
                appProps.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(appProps, new StringSerializer(),
                        new StringSerializer())) {
                    ExecutionException e = assertThrows(ExecutionException.class,
                            () -> producer.send(new ProducerRecord<>(config.topics().changes(), "k", "{}")).get(30, TimeUnit.SECONDS));
                    assertInstanceOf(TopicAuthorizationException.class, e.getCause(), e.toString());
                    ExecutionException regionTopic = assertThrows(ExecutionException.class, () -> producer
                            .send(new ProducerRecord<>(config.topics().invalidations(REGION), purged, "{}")).get(30, TimeUnit.SECONDS));
                    assertInstanceOf(TopicAuthorizationException.class, regionTopic.getCause(), regionTopic.toString());
                }
                cacheClientUnderItsAclUser(config, stack, redisAdmin, p);

                // the CLI as its own principal (and the PostgreSQL reader): a manual invalidation reaches the region
                String literal = yaml;
                for (Map.Entry<String, String> e : env.entrySet()) {
                    literal = literal.replace("${" + e.getKey() + "}", e.getValue());
                }
                java.nio.file.Path file = java.nio.file.Files.createTempFile(id + "-cli", ".yml");
                try {
                    java.nio.file.Files.writeString(file, literal);
                    String manual = p + "product:3";
                    redisAdmin.hset(manual, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{}"));
                    LetheCommand.Result invalidate = LetheCommand.lethe("invalidate", "--config", file.toString(), "--namespace", "product",
                            "--key", manual);
                    assertEquals(0, invalidate.exit(), invalidate.out() + invalidate.err());
                    Await.until("the manual invalidation applied", Duration.ofSeconds(60), () -> redisAdmin.exists(manual) == 0);
                    LetheCommand.Result lag = LetheCommand.lethe("lag", "--config", file.toString(), "--metrics",
                            "http://127.0.0.1:1/metrics");
                    assertTrue(!(lag.out() + lag.err()).toLowerCase(java.util.Locale.ROOT).contains("authoriz"), lag.out() + lag.err());
                    assertTrue(lag.out().lines().anyMatch(l -> l.startsWith(REGION)), "lethe lag reads the region's group: " + lag.out()
                            + lag.err());
                } finally {
                    java.nio.file.Files.deleteIfExists(file);
                }
            } finally {
                f.close(); // stops the pipeline and closes redisAdmin
                RedisClient client = RedisClient.create();
                try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(stack.redisUri(REGION)))) {
                    c.sync().aclDeluser(redisUser);
                } finally {
                    client.shutdown();
                }
                superAdmin.deleteAcls(acls.stream().map(a -> new AclBindingFilter(ResourcePatternFilter.ANY,
                        new AccessControlEntryFilter(a.entry().principal(), null, AclOperation.ANY, AclPermissionType.ANY))).distinct()
                        .toList()).all().get(30, TimeUnit.SECONDS);
                dropRoles(stack, scope, captureRole, readerRole);
            }
        }
    }

    /**
     * {@code kafka.create-topics: false} on a cluster with authorization: an administrator made every
     * topic as {@code TopicSpec} says (what {@code lethe topics --print} prints) and granted the
     * locked-down recipe ({@code DescribeConfigs} instead of {@code Create}); each role's start-up
     * check of its topics passes under its own principal, capture's offset store opens without
     * creating its topic, and a change reaches the region's Redis. No role was granted Create.
     */
    @Test
    void aLockedDownClusterWhereNoRoleMayCreateTopicsRunsEndToEnd(LetheStack stack, TestScope scope) throws Exception {
        String id = scope.id();
        LetheStack.KafkaSasl capture = stack.kafkaScramUser(id + "-capture");
        LetheStack.KafkaSasl streams = stack.kafkaScramUser(id + "-streams");
        LetheStack.KafkaSasl region = stack.kafkaScramUser(id + "-region-" + REGION);
        Map<String, String> env = Map.of("K_CAPTURE", capture.password(), "K_STREAMS", streams.password(), "K_REGION", region.password());
        String p = scope.keyPrefix();
        PostgresEndpoint pg = stack.postgres();
        String yaml = """
                source: { jdbc-url: "%s", user: %s, slot: %s, publication: %s, heartbeat-interval: 1s }
                kafka:
                  bootstrap-servers: %s
                  topic-prefix: %s
                  partitions: 2
                  replication-factor: 1
                  create-topics: false
                  properties: { security.protocol: SASL_PLAINTEXT, sasl.mechanism: SCRAM-SHA-256 }
                  roles:
                    capture: { user: %s, password: "${K_CAPTURE}" }
                    streams: { user: %s, password: "${K_STREAMS}" }
                streams: { application-id: %s-streams }
                apply: { group-prefix: %s-region- }
                regions:
                  %s: { redis: "%s", kafka: { user: %s, password: "${K_REGION}" } }
                namespaces:
                  product: { table: public.products, keys: ["%sproduct:{id}"] }
                """.formatted(pg.jdbcUrl(scope.database()), pg.user(), scope.slot(), scope.publication(),
                stack.kafkaSasl().bootstrapServers(),
                scope.topicPrefix(), capture.user(), streams.user(), id, id, REGION, stack.redisUri(REGION), region.user(), p);
        LetheConfig config = ConfigLoader.parse(id + "-lethe.yml", yaml, env::get);
        List<AclBinding> acls = new ArrayList<>();
        for (KafkaRole role : List.of(KafkaRole.CAPTURE, KafkaRole.STREAMS, KafkaRole.region(REGION))) {
            acls.addAll(KafkaAcls.bindings(config, role));
        }
        assertTrue(acls.stream().noneMatch(a -> a.entry().operation() == AclOperation.CREATE), acls.toString());
        PipelineFixture f = new PipelineFixture(stack, scope);
        try (Admin superAdmin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            try {
                superAdmin.createAcls(acls).all().get(30, TimeUnit.SECONDS);
                superAdmin.createTopics(io.lethe.stage.kafka.TopicSpec.all(config).stream()
                        .map(spec -> new org.apache.kafka.clients.admin.NewTopic(
                                spec.name(), java.util.Optional.ofNullable(spec.partitions()),
                                java.util.Optional.ofNullable(spec.replicationFactor()))
                                .configs(spec.configs()))
                        .toList()).all().get(30, TimeUnit.SECONDS);
                f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10)");
                RedisCommands<String, String> redis = f.redis(REGION);
                String key = p + "product:1";
                redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":10}"));
                f.start(config);
                f.sql("UPDATE products SET price = 11 WHERE id = 1");
                Await.until("the change applied in " + REGION, Duration.ofSeconds(90),
                        () -> redis.exists(RedisLayout.fenceKey(key)) == 1 && redis.exists(key) == 0);
            } finally {
                f.close();
                superAdmin.deleteAcls(acls.stream().map(a -> new AclBindingFilter(ResourcePatternFilter.ANY,
                        new AccessControlEntryFilter(a.entry().principal(), null, AclOperation.ANY, AclPermissionType.ANY))).distinct()
                        .toList()).all().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * The application's cache-client as the runbook's cache-client user: a miss is loaded and filled
     * through fill.lua (its fence read included), the next read is a hit; a delete outside the
     * contract scripts is refused.
     */
    private static void cacheClientUnderItsAclUser(LetheConfig config, LetheStack stack, RedisCommands<String, String> redisAdmin,
            String p) {
        String user = config.region(REGION).redisUser() + "-cache";
        String password = "cache-" + UUID.randomUUID();
        List<String> setUser = LeastPrivilege.redisCacheClientUserArgs(config, config.region(REGION), user, password);
        assertEquals("OK", redisAdmin.dispatch(CommandType.ACL, new StatusOutput<>(StringCodec.UTF8),
                new CommandArgs<>(StringCodec.UTF8).add("SETUSER").addValues(setUser)));
        try {
            String uri = stack.redisUri(REGION).replace("redis://", "redis://" + user + ":" + password + "@");
            io.lethe.cache.LetheCache cache = io.lethe.cache.LetheCache.builder(uri).build();
            try {
                // declared with what lethe.yml says its entries hold: the miss reads lethe:holds:product under the ACL user too
                io.lethe.cache.CacheNamespace<String> ns = cache.namespace("product", io.lethe.cache.Codecs.utf8(),
                        io.lethe.cache.Policy.eventual().withTtl(Duration.ofMinutes(10), 0.1).withShadowReads(0),
                        config.namespaces().get("product").readerHolds());
                String key = p + "product:2";
                java.util.concurrent.atomic.AtomicInteger loads = new java.util.concurrent.atomic.AtomicInteger();
                assertEquals("row 2", ns.get(key, k -> {
                    loads.incrementAndGet();
                    return io.lethe.cache.Loaded.of("row 2");
                }));
                assertEquals("row 2", ns.get(key, k -> {
                    loads.incrementAndGet();
                    return io.lethe.cache.Loaded.of("unexpected");
                }), "filled under the ACL user: the second read is a hit");
                assertEquals(1, loads.get());
                assertEquals(1, redisAdmin.exists(key), "the entry is in the region's Redis");
            } finally {
                cache.close();
            }
            RedisClient client = RedisClient.create();
            try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(uri))) {
                RedisCommandExecutionException e = assertThrows(RedisCommandExecutionException.class,
                        () -> c.sync().unlink(p + "product:2"));
                assertTrue(e.getMessage().contains("NOPERM"), e.getMessage());
            } finally {
                client.shutdown();
            }
        } finally {
            redisAdmin.aclDeluser(user);
        }
    }

    /** What each role may not do, though another role may. */
    private static void refusedOtherRolesOperations(LetheConfig config, PipelineFixture f, LetheStack stack, String redisUser,
            String redisPassword, String captureRole, String readerRole) throws Exception {
        // Kafka: a region cannot forge changes (capture's topic) ...
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.region(REGION), "lp-forge");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>(config.topics().changes(), "k", "{}")).get(30, TimeUnit.SECONDS));
            assertInstanceOf(TopicAuthorizationException.class, e.getCause(), e.toString());
        }
        // ... and capture cannot read a region's consumer group
        try (Admin captureAdmin = Admin.create(KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, "lp-peek"))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> captureAdmin.listConsumerGroupOffsets(
                    config.apply().groupPrefix() + REGION).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS));
            assertInstanceOf(GroupAuthorizationException.class, e.getCause(), e.toString());
        }
        // Redis: the region's user may not flush the server nor touch a key outside its namespaces and lethe:*
        RedisClient client = RedisClient.create();
        try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.builder(RedisURI.create(stack.redisUri(REGION)))
                .withAuthentication(redisUser, redisPassword.toCharArray()).build())) {
            RedisCommandExecutionException flush = assertThrows(RedisCommandExecutionException.class, () -> c.sync().flushall());
            assertTrue(flush.getMessage().contains("NOPERM"), flush.getMessage());
            RedisCommandExecutionException foreign = assertThrows(RedisCommandExecutionException.class, () -> c.sync().get("session:1"));
            assertTrue(foreign.getMessage().contains("NOPERM"), foreign.getMessage());
        } finally {
            client.shutdown();
        }
        // PostgreSQL: capture's role reads no table rows (the reader's job), the reader cannot stream WAL
        PostgresEndpoint pg = stack.postgres();
        String url = pg.jdbcUrl(config.source().database());
        try (Connection c = DriverManager.getConnection(url, captureRole, "")) {
            SQLException e = assertThrows(SQLException.class, () -> c.createStatement().executeQuery("SELECT * FROM products"));
            assertTrue(e.getMessage().contains("permission denied"), e.getMessage());
        }
        try (Connection c = DriverManager.getConnection(url, readerRole, "")) {
            c.createStatement().executeQuery("SELECT * FROM products").close();
            SQLException e = assertThrows(SQLException.class, () -> c.createStatement().executeQuery(
                    "SELECT pg_create_logical_replication_slot('lp_forbidden', 'pgoutput')"));
            assertTrue(e.getMessage().contains("permission denied") || e.getMessage().contains("must be superuser or replication role"),
                    e.getMessage());
        }
    }

    private static double sweep(PipelineFixture f, String meter, String tag, String value) {
        return f.registry.find(meter).tags("region", REGION, tag, value).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static void dropRoles(LetheStack stack, TestScope scope, String... roles) throws SQLException {
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password())) {
            c.createStatement().execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '"
                    + scope.slot() + "' AND NOT active");
            for (String role : roles) {
                c.createStatement().execute("DROP OWNED BY \"" + role + "\"");
                c.createStatement().execute("DROP ROLE \"" + role + "\"");
            }
        }
    }
}
