package io.lethe.dev.verify.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Loader;
import io.lethe.cache.Policy;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.inspect.CacheInspector;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.stage.faults.FaultInjection;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The coherence inspector against three deliberate breaks of the pipeline (issue 28), each on the
 * real pipeline on the embedded stack, with an application reading through cache-client with
 * shadow reads of every hit:
 * <ol>
 *   <li>a table dropped from the publication, with capture's source watch switched off
 *       ({@link FaultInjection#SOURCE_WATCH}), then its rows updated;
 *   <li>a key template rendering a numeric(10,2) key column as PostgreSQL does ({@code 1.50})
 *       while the application caches under its own rendering ({@code 1.5});
 *   <li>a region's Redis restarted from an old snapshot with the restore replay switched off
 *       ({@link FaultInjection#RESTORE_REPLAY}).
 * </ol>
 * Each case first shows the break: after the pipeline processed everything (the sentinel), the
 * stale entry is still there and nothing of Lethe's own counted it. Then, with a new stale write,
 * a shadow read must confirm it (counted under its namespace, audited, healed: the next read
 * returns the row's current value), and, with another, {@code lethe inspect --heal} must confirm
 * it under its namespace and heal it. The detection times, from the stale write's commit (or the
 * restart) to the confirmed count or the inspector's summary, are printed
 * ("inspector breaks: ...") and reported in docs/benchmarks.md.
 */
@ExtendWith(LetheStackExtension.class)
class InspectorBreaksIT {
    private static final Duration DETECT_WITHIN = Duration.ofSeconds(90);
    private static final Policy EVERY_HIT = Policy.eventual().withTtl(Duration.ofMinutes(10), 0).withShadowReads(1);

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private ScenarioRun run;

    @AfterEach
    void close() {
        System.clearProperty(FaultInjection.PROPERTY_PREFIX + FaultInjection.SOURCE_WATCH);
        System.clearProperty(FaultInjection.PROPERTY_PREFIX + FaultInjection.RESTORE_REPLAY);
        if (run != null) {
            run.close();
        }
    }

    /** One case: the table, the application's key and loader, and how the entry is made stale again. */
    private final class Case {
        final String name;
        final String region;
        final String namespace;
        final String key;
        final LetheConfig config;
        final CacheNamespace<String> app;
        final LetheCache cache;
        final Loader<String> loader;

        Case(String name, String region, String namespace, String key, LetheConfig config, String loadSql, Object keyValue)
                throws Exception {
            this.name = name;
            this.region = region;
            this.namespace = namespace;
            this.key = key;
            this.config = config;
            this.cache = run.own(LetheCache.builder(run.stack().redisUri(region))
                    .readYourWrites(RegionConsumerService.groupId(config, region))
                    .shadowReadLimits(4, 1000, Duration.ofMillis(500), Duration.ofSeconds(30)).meterRegistry(registry).build());
            this.app = cache.namespace(namespace, Codecs.utf8(), EVERY_HIT);
            Connection c = run.own(run.connect());
            PreparedStatement load = c.prepareStatement(loadSql);
            this.loader = k -> {
                synchronized (load) { // shadow reads load from the inspection's threads
                    load.setObject(1, keyValue);
                    try (ResultSet rs = load.executeQuery()) {
                        return rs.next() ? Loaded.of(rs.getString(1), rs.getLong(2)) : Loaded.notFound();
                    }
                }
            };
        }

        String read() {
            return app.get(key, loader);
        }

        String cached() {
            return run.redis(region).hget(key, RedisLayout.ENTRY_DATA);
        }

        double stale() {
            return registry.counter("lethe.cache.inspector.checks", "namespace", namespace, "result", "stale").count();
        }

        void awaitShadowReads() throws InterruptedException {
            ScenarioRun.await("the shadow reads", DETECT_WITHIN, () -> cache.shadowReadsPending() == 0);
        }
    }

    @Test
    void aTableDroppedFromThePublication(EmbeddedStack stack) throws Exception {
        String region = stack.regions().get(0);
        run = new ScenarioRun(stack, List.of(region), "breaks-publication");
        run.sql("CREATE TABLE accounts (id int PRIMARY KEY, label text NOT NULL, ver bigint NOT NULL)",
                "INSERT INTO accounts VALUES (1, 'a1', 1)");
        System.setProperty(FaultInjection.PROPERTY_PREFIX + FaultInjection.SOURCE_WATCH, run.publication());
        LetheConfig config = run.config("""
                acct:
                  table: public.accounts
                  keys: ["%sacct:{id}"]
                  version: column:ver
                """.formatted(run.p()));
        run.start(config);
        run.quiesce();
        Case c = new Case("a table dropped from the publication", region, "acct", run.p() + "acct:1", config,
                "SELECT label, ver FROM accounts WHERE id = ?", 1);
        prove(c, () -> run.sql("ALTER PUBLICATION " + run.publication() + " DROP TABLE accounts"),
                n -> run.sql("UPDATE accounts SET label = 'a1." + n + "', ver = ver + 1 WHERE id = 1"));
    }

    @Test
    void aKeyTemplateRenderingANumericOtherwiseThanTheApplication(EmbeddedStack stack) throws Exception {
        String region = stack.regions().get(0);
        run = new ScenarioRun(stack, List.of(region), "breaks-template");
        run.sql("CREATE TABLE fares (fare numeric(10,2) PRIMARY KEY, label text NOT NULL, ver bigint NOT NULL)",
                "INSERT INTO fares VALUES (1.50, 'f1', 1)");
        // Lethe renders numeric(10,2) as PostgreSQL prints it, 1.50; the application formats the amount its own way
        LetheConfig config = run.config("""
                fare:
                  table: public.fares
                  keys: ["%sfare:{fare}"]
                  primary-key: [fare]
                  version: column:ver
                """.formatted(run.p()));
        run.start(config);
        run.quiesce();
        BigDecimal fare = new BigDecimal("1.50");
        String appKey = run.p() + "fare:" + fare.stripTrailingZeros().toPlainString();
        assertEquals(run.p() + "fare:1.5", appKey);
        Case c = new Case("a key template rendering a numeric otherwise than the application", region, "fare", appKey, config,
                "SELECT label, ver FROM fares WHERE fare = ?", fare);
        prove(c, () -> {
        }, n -> run.sql("UPDATE fares SET label = 'f1." + n + "', ver = ver + 1 WHERE fare = 1.50"));
    }

    @Test
    void aRedisRestoredFromAnOldSnapshotWithItsReplayOff(EmbeddedStack stack) throws Exception {
        String region = stack.regions().get(0);
        run = new ScenarioRun(stack, List.of(region), "breaks-restore");
        run.sql("CREATE TABLE accounts (id int PRIMARY KEY, label text NOT NULL, ver bigint NOT NULL)",
                "INSERT INTO accounts VALUES (1, 'a1', 1)");
        LetheConfig config = run.config("""
                acct:
                  table: public.accounts
                  keys: ["%sacct:{id}"]
                  version: column:ver
                """.formatted(run.p()));
        System.setProperty(FaultInjection.PROPERTY_PREFIX + FaultInjection.RESTORE_REPLAY, RegionConsumerService.groupId(config, region));
        run.start(config);
        run.quiesce();
        String checkpoint = RedisLayout.checkpointKey(RegionConsumerService.groupId(config, region));
        ScenarioRun.await("the region's checkpoint in Redis", Duration.ofSeconds(30), () -> run.redis(region).exists(checkpoint) == 1);
        Case c = new Case("a Redis restored from an old snapshot, its replay off", region, "acct", run.p() + "acct:1", config,
                "SELECT label, ver FROM accounts WHERE id = ?", 1);
        assertEquals("a1", c.read(), "filled at version 1");
        run.redis(region).save();
        run.sql("UPDATE accounts SET label = 'a1.1', ver = 2 WHERE id = 1");
        run.quiesce();
        assertEquals("a1.1", c.read(), "the pipeline invalidated version 1: the next read fills version 2");
        prove(c, () -> {
        }, n -> {
            // the stale write: the snapshot of version 1 comes back
            run.shutdownRedis(region);
            run.stack().restartRedis(region);
            awaitReadingRedis(c);
        });
    }

    /**
     * Waits until the application's cache client reads Redis again after a restart: while it
     * reconnects it fails fast and loads from the database (a Redis outage is not a database
     * outage), which would serve the row's value, not what the restored Redis holds. The sentinel
     * is a probe entry written into Redis, read through the same client until it is served from there.
     */
    private void awaitReadingRedis(Case c) throws Exception {
        String probeKey = run.p() + "probe:reconnected";
        run.redis(c.region).hset(probeKey, java.util.Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "from-redis"));
        CacheNamespace<String> probe = c.cache.namespace("probe", Codecs.utf8(), Policy.eventual().withShadowReads(0));
        ScenarioRun.await("the application's cache client reads Redis again", Duration.ofSeconds(30),
                () -> {
                    try {
                        return "from-redis".equals(probe.get(probeKey, k -> Loaded.of("from-database", 1)));
                    } catch (RuntimeException notYet) {
                        return false;
                    }
                });
    }

    private interface Step {
        void run() throws Exception;
    }

    private interface StaleWrite {
        void run(int n) throws Exception;
    }

    /**
     * The break, then three stale writes: the first proves it (the pipeline leaves the entry), the
     * second is found by a shadow read, the third by {@code lethe inspect --heal}.
     */
    private void prove(Case c, Step breakIt, StaleWrite staleWrite) throws Exception {
        String before = c.read();
        assertEquals(before, c.read(), "a hit");
        c.awaitShadowReads();
        assertEquals(0, c.stale(), "nothing stale before the break");

        breakIt.run();
        staleWrite.run(1);
        run.quiesce();
        String now = run.query("SELECT label FROM " + (c.namespace.equals("fare") ? "fares" : "accounts"));
        String left = c.cached();
        assertTrue(left != null && !left.equals(now), c.name + ": the pipeline processed everything and left the entry stale: cached "
                + left + ", the row " + now + " (else this is no break)");
        assertEquals(0, c.stale(), "no read yet: nothing counted");

        // shadow reads: a stale write, and the application reads at once, as a busy one would
        staleWrite.run(2);
        long t0 = System.nanoTime();
        String served = c.read();
        String row = run.query("SELECT label FROM " + (c.namespace.equals("fare") ? "fares" : "accounts"));
        assertTrue(!served.equals(row), c.name + ": served the stale value " + served + " (the row is " + row + ")");
        ScenarioRun.await(c.name + ": a shadow read confirming the stale entry", DETECT_WITHIN, () -> c.stale() >= 1);
        long shadowMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        c.awaitShadowReads();
        StreamMessage<String, String> audit = run.redis(c.region).xrange(RedisLayout.AUDIT_STALE_STREAM, Range.unbounded()).stream()
                .filter(m -> c.key.equals(m.getBody().get("key"))).findFirst()
                .orElseThrow(() -> new AssertionError(c.name + ": no audit record for " + c.key));
        assertEquals(c.namespace, audit.getBody().get("namespace"), "the audit record names the namespace");
        assertEquals("1", audit.getBody().get("healed"));
        assertEquals(row, c.read(), c.name + ": healed by the shadow read, the next read returns the row's current value");

        // lethe inspect --heal: another stale write, and the inspector runs at once
        staleWrite.run(3);
        long t1 = System.nanoTime();
        CacheInspector.Summary summary;
        try (CacheInspector inspector = new CacheInspector(c.config, c.region,
                new CacheInspector.Options(List.of(c.namespace), 1000, true, Duration.ofSeconds(60)), Clock.systemUTC())) {
            summary = inspector.run((scanned, suspects, namespace) -> {
            });
        }
        long inspectMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
        CacheInspector.Summary s = summary;
        assertTrue(s.staleFound(), () -> c.name + ": lethe inspect found nothing: " + s);
        CacheInspector.Report report = s.confirmed().stream().filter(r -> r.key().equals(c.key)).findFirst()
                .orElseThrow(() -> new AssertionError(c.name + ": not confirmed by lethe inspect: " + s));
        assertEquals(c.namespace, report.namespace(), "the inspector names the namespace");
        assertTrue(s.healed() >= 1, () -> "healed: " + s);
        String rowNow = run.query("SELECT label FROM " + (c.namespace.equals("fare") ? "fares" : "accounts"));
        assertEquals(rowNow, c.read(), c.name + ": healed by lethe inspect, the next read returns the row's current value");

        System.out.printf("inspector breaks: %s (namespace %s): shadow read confirmed %d ms after the stale write; lethe inspect "
                + "--heal confirmed %s (%s) %d ms after it (its run: %d keys, %s)%n", c.name, c.namespace, shadowMillis, c.key,
                report.finding(), inspectMillis, s.scanned(), s.took());
    }
}
