package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.inspect.CacheInspector;
import io.lethe.region.inspect.Finding;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lethe inspect} against a running pipeline: entries planted behind Lethe's back, one of
 * each class it judges, are found with their namespace and class, healed, and a second pass is
 * clean; entries a cache-client reader filled from the database while rows change are all found OK.
 */
@ExtendWith(LetheStackExtension.class)
class InspectIT {
    private static final String REGION = "us-east";

    private static String namespaces(String p) {
        return """
                item: { table: public.items, keys: ["%sitem:{id}"], version: column:ver, fence-ttl: 10m }
                price: { table: public.prices, keys: ["%sprice:{id}"], mode: upsert, payload-columns: [price, name] }
                bycat: { table: public.goods, keys: ["%scat:{cat}"] }
                """.formatted(p, p, p);
    }

    private static void tables(PipelineFixture f) throws Exception {
        f.sql("CREATE TABLE items (id int PRIMARY KEY, val text, ver int NOT NULL)",
                "CREATE TABLE prices (id int PRIMARY KEY, price numeric(10,2), name text)",
                "CREATE TABLE goods (id int PRIMARY KEY, cat text)", "ALTER TABLE goods REPLICA IDENTITY FULL");
    }

    @Test
    void findsEachPlantedStaleEntryWithItsNamespaceAndClassHealsThemAndASecondPassIsClean(EmbeddedStack stack, TestScope scope,
            @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            tables(f);
            String yaml = f.yaml(List.of(REGION), namespaces(p), "");
            LetheConfig config = f.config(yaml);
            Path file = Files.writeString(dir.resolve("lethe.yml"), yaml);
            f.start(config);
            f.sql("INSERT INTO items VALUES (1, 'one', 5), (2, 'two', 5), (3, 'three', 5), (4, 'four', 7), (6, 'six', 5)",
                    "INSERT INTO prices VALUES (1, 9.50, 'a'), (2, 1.50, 'b')",
                    "INSERT INTO goods VALUES (1, 'books')");
            RedisCommands<String, String> redis = f.redis(REGION);
            awaitApplied(f, config, redis);
            assertEquals(1, redis.exists(p + "price:2"), "the pipeline upserted price 2");

            // behind Lethe's back, in the entry format of docs/subscribing.md
            redis.hset(p + "item:99", Map.of("v", "3", "d", "gone")); // ROW_GONE
            redis.hset(p + "item:1", Map.of("v", "5", "d", "", "nf", "1")); // NEGATIVE_BUT_ROW
            redis.hset(p + "item:2", Map.of("v", "4", "d", "old two")); // OLDER_VERSION (row at 5)
            redis.hset(p + "item:3", Map.of("v", "5", "d", "three")); // OK
            // the row's value, filled at an LSN (before version: lsn became column:ver): AHEAD_OF_ROW, no invalidation reaches it
            redis.hset(p + "item:6", Map.of("v", "26000000", "d", "six"));
            redis.hset(p + "item:4", Map.of("v", "7", "d", "four")); // the row's version, but ...
            redis.hset(RedisLayout.fenceKey(p + "item:4"), "v", "8"); // ... INVALIDATED_AFTER_WRITE at 8
            redis.hset(p + "price:1", "d", "{\"price\":\"9.99\",\"name\":\"a\"}"); // PAYLOAD_DIFFERS
            redis.hset(p + "cat:music", Map.of("v", "0", "d", "[1]")); // DERIVED_ORPHAN
            redis.hset(p + "cat:books", Map.of("v", "0", "d", "[1]")); // UNJUDGED_VALUE (a derived key's value)
            redis.set(p + "item:5", "legacy"); // ROW_GONE (a legacy entry, no row 5)

            LetheCommand.Result first = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION, "--rate", "1000");
            System.out.println(first.out());
            assertEquals(1, first.exit(), "stale entries found: " + first.out() + first.err());
            String out = first.out();
            assertStale(out, "item", "ROW_GONE", p + "item:99");
            assertStale(out, "item", "ROW_GONE", p + "item:5");
            assertStale(out, "item", "NEGATIVE_BUT_ROW", p + "item:1");
            assertStale(out, "item", "OLDER_VERSION", p + "item:2");
            assertStale(out, "item", "INVALIDATED_AFTER_WRITE", p + "item:4");
            assertStale(out, "item", "AHEAD_OF_ROW", p + "item:6");
            assertStale(out, "price", "PAYLOAD_DIFFERS", p + "price:1");
            assertStale(out, "bycat", "DERIVED_ORPHAN", p + "cat:music");
            for (String fresh : List.of("item:3 ", "price:2 ", "cat:books ")) {
                assertFalse(out.contains(p + fresh), fresh + "is not stale: " + out);
            }
            assertEquals(8, out.lines().filter(l -> l.startsWith("stale ")).count(), out);
            assertEquals(1, redis.exists(p + "item:2"), "without --heal nothing is touched");

            LetheCommand.Result heal = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION, "--heal");
            assertEquals(1, heal.exit(), heal.out() + heal.err());
            for (String key : List.of("item:99", "item:5", "item:1", "item:2", "item:4", "item:6", "price:1", "cat:music")) {
                assertEquals(0, redis.exists(p + key), key + " healed: " + heal.out());
            }
            assertEquals(1, redis.exists(p + "item:3"), "a fresh entry stays");
            assertEquals(1, redis.exists(p + "price:2"), "a fresh entry stays");

            try (LetheCache cache = LetheCache.builder(stack.redisUri(REGION)).meterRegistry(new SimpleMeterRegistry()).build()) {
                CacheNamespace<String> items = cache.namespace("item", Codecs.utf8(),
                        Policy.eventual().withFenceTtl(Duration.ofMinutes(10)).withNegativeTtl(Duration.ofMinutes(5)));
                assertEquals("two", items.get(p + "item:2", k -> Loaded.of("two", 5)));
                assertEquals("5", redis.hget(p + "item:2", "v"), "the healed key reloads from the row");
                assertEquals("one", items.get(p + "item:1", k -> Loaded.of("one", 5)));
            }

            LetheCommand.Result again = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION);
            assertEquals(0, again.exit(), "a second pass is clean: " + again.out() + again.err());
        }
    }

    /**
     * Each key's row is found through the table's index: compared as {@code col::text} alone, an
     * integer key scanned the whole table for every key, which a continuous sweep (apply.sweep)
     * would repeat a few times a second on every region.
     */
    @Test
    void eachKeysRowIsFoundThroughTheTablesIndexNotByScanningTheTable(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE items (id int PRIMARY KEY, val text, ver int NOT NULL)",
                    "INSERT INTO items SELECT i, 'v' || i, 5 FROM generate_series(1, 50000) i", "ANALYZE items");
            LetheConfig config = f.config(f.yaml(List.of(REGION),
                    "item: { table: public.items, keys: [\"" + p + "item:{id}\"], version: column:ver }", ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            for (int i = 1; i <= 20; i++) {
                redis.hset(p + "item:" + i * 1000, Map.of("v", "5", "d", "x"));
            }
            redis.hset(p + "item:oops", Map.of("v", "5", "d", "x")); // not an integer: no row prints so, and no error
            long[] before = scans(f);
            CacheInspector.Summary s;
            try (CacheInspector inspector = new CacheInspector(config, REGION,
                    new CacheInspector.Options(List.of(), 1000, false, Duration.ofSeconds(5)), java.time.Clock.systemUTC())) {
                s = inspector.run((scanned, suspects, namespace) -> {
                });
            }
            assertEquals(20L, s.counts().get("item").get(Finding.OK), s.toString());
            assertEquals(List.of(p + "item:oops"), s.unconfirmed().stream().map(CacheInspector.Report::key).toList(),
                    "ROW_GONE suspect (the region runs no pipeline here to confirm it)");
            // the inspector's session reports its scans as it ends: its index scans are the sentinel
            Await.until("the inspector's index scans counted", Duration.ofSeconds(30), () -> scans(f)[1] >= before[1] + 20);
            assertEquals(before[0], scans(f)[0], "no sequential scan of items: " + before[0] + " before");
        }
    }

    /**
     * Keys of char(n) and bit(n) columns find their row: compared in the column's type as
     * {@code format_type} names it without its modifier ({@code character}, {@code bit}: one
     * character, one bit), the key's text was cut to its first character and no row matched.
     */
    @Test
    void keysOfCharAndBitColumnsFindTheirRow(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE codes (c char(3), b bit(3), ver int NOT NULL, PRIMARY KEY (c, b))",
                    "INSERT INTO codes VALUES ('abc', B'101', 5)");
            LetheConfig config = f.config(f.yaml(List.of(REGION),
                    "code: { table: public.codes, primary-key: [c, b], keys: [\"" + p + "code:{c}:{b}\"], version: column:ver }", ""));
            f.redis(REGION).hset(p + "code:abc:101", Map.of("v", "5", "d", "x"));
            CacheInspector.Summary s = inspectOnce(config);
            assertEquals(Map.of(Finding.OK, 1L), s.counts().get("code"), "the row found, at the entry's version: " + s);
            assertTrue(s.unconfirmed().isEmpty() && s.confirmed().isEmpty(), s.toString());
        }
    }

    /**
     * Keys of json columns (and of a domain over json), which have no equality operator, find their
     * row: compared in the column's type too, every such key failed with SQLSTATE 42883.
     */
    @Test
    void keysOfColumnsWithoutEqualityFindTheirRow(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE DOMAIN jdoc AS json", "CREATE TABLE docs (id int PRIMARY KEY, j json, d jdoc, ver int NOT NULL)",
                    "INSERT INTO docs VALUES (1, '{\"a\":1}', '[2]', 5)");
            LetheConfig config = f.config(f.yaml(List.of(REGION), "doc: { table: public.docs, keys: [\"" + p + "doc:{j}:{d}\"] }", ""));
            String key = io.lethe.config.KeyTemplate.parse(p + "doc:{j}:{d}").render(Map.of("j", "{\"a\":1}", "d", "[2]")).orElseThrow();
            f.redis(REGION).hset(key, Map.of("v", "5", "d", "x"));
            CacheInspector.Summary s = inspectOnce(config);
            // a derived key (not the table's primary key) whose row is found: judged, its value left to shadow reads
            assertEquals(Map.of(Finding.UNJUDGED_VALUE, 1L), s.counts().get("doc"), s.toString());
            assertTrue(s.unconfirmed().isEmpty() && s.confirmed().isEmpty(), s.toString());
        }
    }

    /**
     * A key whose text a domain's CHECK refuses (a negative entry for an id a user made up) is no row's: judged as gone,
     * not an error (failed first: the cast's check violation, SQLSTATE 23514, reached the inspector as a database error).
     */
    @Test
    void aKeyADomainsCheckRefusesIsNoRowsKey(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE DOMAIN sku AS text CHECK (VALUE ~ '^[A-Z0-9]+$')", "CREATE TABLE skus (s sku PRIMARY KEY, ver int NOT NULL)",
                    "INSERT INTO skus VALUES ('AB1', 5)");
            LetheConfig config = f.config(f.yaml(List.of(REGION), "sku: { table: public.skus, primary-key: [s], keys: [\"" + p
                    + "sku:{s}\"] }", ""));
            f.redis(REGION).hset(p + "sku:made-up", Map.of("v", "5", "d", "x"));
            CacheInspector.Summary s = inspectOnce(config);
            // a suspect (no pipeline runs here to confirm it past the row's position)
            assertEquals(List.of(Finding.ROW_GONE), s.unconfirmed().stream().map(r -> r.finding()).toList(), s.toString());
        }
    }

    private static CacheInspector.Summary inspectOnce(LetheConfig config) throws Exception {
        try (CacheInspector inspector = new CacheInspector(config, REGION,
                new CacheInspector.Options(List.of(), 1000, false, Duration.ofSeconds(5)), java.time.Clock.systemUTC())) {
            return inspector.run((scanned, suspects, namespace) -> {
            });
        }
    }

    /** {@code seq_scan} and {@code idx_scan} of the test's items table. */
    private static long[] scans(PipelineFixture f) {
        PostgresEndpoint pg = f.stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(f.scope.database()), pg.user(), pg.password());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'items'")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2)};
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Issue 34, key format 2: a namespace may hold keys it rendered in key format 1 (values with a
     * reserved character written as they were, before the upgrade, or concatenated by hand). The
     * pipeline no longer invalidates them, so inspect must judge them too, by the values as written.
     */
    @Test
    void judgesKeysOfKeyFormat1TooByTheirValuesAsWritten(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE tags (id text PRIMARY KEY, val text, ver int NOT NULL)");
            String yaml = f.yaml(List.of(REGION), """
                    tag: { table: public.tags, keys: ["%stag:{id}"], version: column:ver }
                    """.formatted(p), "");
            LetheConfig config = f.config(yaml);
            Path file = Files.writeString(dir.resolve("lethe.yml"), yaml);
            f.start(config);
            f.sql("INSERT INTO tags VALUES ('a:b', 'x', 5), ('c*d', 'y', 5)");
            RedisCommands<String, String> redis = f.redis(REGION);
            awaitApplied(f, config, redis);

            redis.hset(p + "tag:a:b", Map.of("v", "4", "d", "old x")); // key format 1 of 'a:b': OLDER_VERSION (row at 5)
            redis.hset(p + "tag:gone:1", Map.of("v", "3", "d", "gone")); // key format 1 of 'gone:1': ROW_GONE
            redis.hset(p + "tag:c*d", Map.of("v", "5", "d", "y")); // key format 1 of 'c*d', the row's version: OK
            redis.hset(p + "tag:a%3Ab", Map.of("v", "5", "d", "x")); // key format 2 of 'a:b': OK

            LetheCommand.Result first = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION, "--rate", "1000");
            String out = first.out();
            assertEquals(1, first.exit(), "stale entries under key format 1 keys found: " + out + first.err());
            assertStale(out, "tag", "OLDER_VERSION", p + "tag:a:b");
            assertStale(out, "tag", "ROW_GONE", p + "tag:gone:1");
            assertEquals(2, out.lines().filter(l -> l.startsWith("stale ")).count(), out);

            LetheCommand.Result heal = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION, "--heal");
            assertEquals(1, heal.exit(), heal.out() + heal.err());
            assertEquals(0, redis.exists(p + "tag:a:b"), "healed: " + heal.out());
            assertEquals(0, redis.exists(p + "tag:gone:1"), "healed: " + heal.out());
            assertEquals(1, redis.exists(p + "tag:c*d"), "an entry that agrees with its row stays");
            LetheCommand.Result again = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION);
            assertEquals(0, again.exit(), "a second pass is clean: " + again.out() + again.err());
        }
    }

    @Test
    void entriesAReaderFilledFromTheDatabaseWhileRowsChangeAreAllOk(EmbeddedStack stack, TestScope scope, @TempDir Path dir)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            tables(f);
            String yaml = f.yaml(List.of(REGION), namespaces(p), "");
            LetheConfig config = f.config(yaml);
            Path file = Files.writeString(dir.resolve("lethe.yml"), yaml);
            f.start(config);
            f.sql("INSERT INTO items SELECT i, 'v' || i, 1 FROM generate_series(1, 50) i",
                    "INSERT INTO prices SELECT i, i * 1.25, 'n' || i FROM generate_series(1, 20) i",
                    "INSERT INTO goods SELECT i, 'c' || (i % 3) FROM generate_series(1, 9) i");
            RedisCommands<String, String> redis = f.redis(REGION);
            awaitApplied(f, config, redis);
            PostgresEndpoint pg = stack.postgres();
            AtomicBoolean stop = new AtomicBoolean();
            try (LetheCache cache = LetheCache.builder(stack.redisUri(REGION)).meterRegistry(new SimpleMeterRegistry()).build();
                    Connection db = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password())) {
                CacheNamespace<String> items = cache.namespace("item", Codecs.utf8(),
                        Policy.eventual().withFenceTtl(Duration.ofMinutes(10)).withNegativeTtl(Duration.ofMinutes(5)));
                CacheNamespace<String> cats = cache.namespace("bycat", Codecs.utf8(), Policy.eventual());
                PreparedStatement load = db.prepareStatement("SELECT val, ver FROM items WHERE id = ?");
                for (int id = 1; id <= 60; id++) {
                    int row = id;
                    items.get(p + "item:" + id, k -> {
                        try {
                            load.setInt(1, row);
                            try (ResultSet rs = load.executeQuery()) {
                                return rs.next() ? Loaded.of(rs.getString(1), rs.getLong(2)) : Loaded.notFound();
                            }
                        } catch (java.sql.SQLException e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }
                cats.get(p + "cat:c1", k -> Loaded.of("[1,4,7]"));
                // a writer changes rows while inspect runs: in-flight changes must not be confirmed stale
                Thread writer = new Thread(() -> {
                    try (Connection w = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
                            Statement st = w.createStatement()) {
                        for (int i = 0; !stop.get(); i++) {
                            st.execute("UPDATE items SET val = 'w" + i + "', ver = ver + 1 WHERE id = " + (1 + i % 50));
                            st.execute("UPDATE prices SET price = price + 1 WHERE id = " + (1 + i % 20));
                            Thread.sleep(100);
                        }
                    } catch (java.sql.SQLException e) {
                        throw new IllegalStateException(e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                });
                writer.start();
                LetheCommand.Result result;
                try {
                    result = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION, "--rate", "50");
                } finally {
                    stop.set(true);
                    writer.join();
                }
                System.out.println(result.out());
                assertEquals(0, result.exit(), "no false positives: " + result.out() + result.err());
                assertTrue(result.out().contains("0 stale confirmed"), result.out());
                long ok = result.out().lines().filter(l -> l.startsWith("item ")).mapToLong(l -> Long.parseLong(l.split("\\s+")[1]))
                        .findFirst().orElse(0);
                assertTrue(ok >= 25, "most of the reader's entries are judged OK, not merely cleared: " + result.out());
            }
        }
    }

    @Test
    void findsAndHealsStaleEntriesOnEveryMasterOfARedisCluster(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope);
                io.lettuce.core.cluster.RedisClusterClient client = io.lettuce.core.cluster.RedisClusterClient
                        .create(stack.redisClusterUri());
                io.lettuce.core.cluster.api.StatefulRedisClusterConnection<String, String> connection = client.connect()) {
            var redis = connection.sync();
            String p = scope.keyPrefix();
            tables(f);
            f.sql("INSERT INTO items SELECT i, 'v' || i, 1 FROM generate_series(1, 40) i");
            String yaml = f.yaml(Map.of(REGION, "{ redis: \"" + stack.redisClusterUri() + "\", topology: cluster }"), namespaces(p), "");
            LetheConfig config = f.config(yaml);
            Path file = Files.writeString(dir.resolve("lethe.yml"), yaml);
            f.start(config);
            String watermark = AppliedLsn.key(RegionConsumerService.groupId(config, REGION));
            Await.until(REGION + " publishes its applied watermark", Duration.ofSeconds(90),
                    () -> AppliedLsn.of(redis.hgetall(watermark)).isPresent());
            java.util.Set<Long> slots = new java.util.HashSet<>();
            for (int id = 1; id <= 80; id++) {
                // 1..40 hold their row's version; 41..80 have no row
                redis.hset(p + "item:" + id, Map.of("v", "1", "d", "v" + id));
                slots.add(redis.clusterKeyslot(p + "item:" + id));
            }
            assertTrue(slots.size() > 40, "keys spread over the cluster's slots");
            try {
                LetheCommand.Result result = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION, "--rate",
                        "1000", "--heal");
                assertEquals(1, result.exit(), result.out() + result.err());
                assertEquals(40, result.out().lines().filter(l -> l.startsWith("stale item ROW_GONE ")).count(), result.out());
                for (int id = 1; id <= 80; id++) {
                    assertEquals(id <= 40 ? 1 : 0, redis.exists(p + "item:" + id), "item " + id + ": " + result.out());
                }
                assertEquals(0, LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION).exit(),
                        "a second pass is clean");
            } finally {
                client.shutdown();
            }
        }
    }

    /**
     * Rows are read from the region's replica (applying WAL 3 s late): a row it has replayed is
     * found, one gone everywhere is confirmed stale once the region and the replica are past the
     * primary's position.
     */
    @Test
    void rowsComeFromTheRegionsReplica(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        PostgresEndpoint replica = stack.replica(Duration.ofSeconds(3));
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            tables(f);
            f.sql("INSERT INTO items VALUES (1, 'one', 1)");
            String yaml = f.yaml(List.of(), namespaces(p), "apply: { replica-poll-interval: 100ms }")
                    .replace("regions:\n", "regions:\n  " + REGION + ": { redis: " + stack.redisUri(REGION) + ", replica: \""
                            + replica.jdbcUrl(scope.database()) + "\" }\n");
            LetheConfig config = f.config(yaml);
            Path file = Files.writeString(dir.resolve("lethe.yml"), yaml);
            f.start(config);
            RedisCommands<String, String> redis = f.redis(REGION);
            awaitApplied(f, config, redis);
            f.sql("INSERT INTO items VALUES (2, 'two', 1)");
            awaitApplied(f, config, redis);
            redis.hset(p + "item:2", Map.of("v", "1", "d", "two")); // what a reader filled
            redis.hset(p + "item:99", Map.of("v", "1", "d", "gone")); // no row anywhere
            LetheCommand.Result result = LetheCommand.lethe("inspect", "--config", file.toString(), "--region", REGION);
            System.out.println(result.out());
            assertEquals(1, result.exit(), result.out() + result.err());
            assertTrue(result.out().contains("rows read from the replica"), result.out());
            assertStale(result.out(), "item", "ROW_GONE", p + "item:99");
            assertFalse(result.out().contains(p + "item:2 "), "a row the replica has is no stale entry: " + result.out());
        }
    }

    private static void assertStale(String out, String namespace, String finding, String key) {
        assertTrue(out.lines().anyMatch(l -> l.startsWith("stale " + namespace + " " + finding + " " + key + " ")),
                "expected 'stale " + namespace + " " + finding + " " + key + "' in:\n" + out);
    }

    /** Waits until the region's applied watermark passed everything committed so far (a sentinel: the source's position now). */
    private static void awaitApplied(PipelineFixture f, LetheConfig config, RedisCommands<String, String> redis) throws Exception {
        long position;
        PostgresEndpoint pg = f.stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(f.scope.database()), pg.user(), pg.password());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")) {
            rs.next();
            position = rs.getLong(1);
        }
        String key = AppliedLsn.key(RegionConsumerService.groupId(config, REGION));
        Await.until(REGION + " to apply everything committed", Duration.ofSeconds(90), () -> {
            OptionalLong applied = AppliedLsn.of(redis.hgetall(key));
            return applied.isPresent() && applied.getAsLong() >= position;
        });
    }
}
