package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.ChildJvm;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.prewarm.Prewarm;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lethe prewarm} must never leave a copy in the target that it did not prove fresh: not
 * when its process is killed between writing a batch and checking it, and not when its host's
 * clock disagrees with PostgreSQL's (the commit times it compares with are PostgreSQL's).
 */
@ExtendWith(LetheStackExtension.class)
class PrewarmSafetyIT {
    private static final int ROWS = 100;
    private static final String SOURCE = "us-east";
    private static final String TARGET = "eu-west";

    /**
     * The source's consumer stopped, every row changed, the target applied the changes and their
     * fences expired (fence-ttl 2s): the source holds 100 old values, the target nothing that would
     * refuse a copy. Only the source's lag (more than half the fence TTL) shows they may be stale.
     */
    @Test
    void aPrewarmHostWhoseClockIsBehindPostgresCopiesNothingFromALaggingSource(EmbeddedStack stack, TestScope scope, @TempDir Path dir)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            LetheConfig config = laggingSource(f, scope);
            Clock behind = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(-10));
            try (Prewarm prewarm = new Prewarm(config, SOURCE, TARGET, new Prewarm.Options(List.of(), 0, 100_000, 100), behind)) {
                prewarm.run((handled, candidates, sofar) -> {
                });
            }
            assertNoStaleCopy(f, scope, "a prewarm host whose clock is 10 minutes behind PostgreSQL's");
        }
    }

    @Test
    void aPrewarmKilledBetweenWritingABatchAndCheckingItLeavesNoStaleCopy(EmbeddedStack stack, TestScope scope, @TempDir Path dir)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            LetheConfig config = laggingSource(f, scope);
            Path file = Files.writeString(dir.resolve("lethe.yml"), f.yaml(List.of(SOURCE, TARGET), products(scope, "2s"), ""));
            boolean killed = killMidBatch(f, scope, file, dir);
            assertNoStaleCopy(f, scope, killed ? "a prewarm killed mid-batch" : "a prewarm");
        }
    }

    /**
     * A fresh source, one batch: the process is killed once the batch's first copies are in the
     * target, before it checked them. Every copy it wrote unchecked must go by itself.
     */
    @Test
    void copiesAKilledPrewarmNeverCheckedExpireByThemselves(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            createProducts(f);
            String yaml = f.yaml(List.of(SOURCE, TARGET), products(scope, "60s"), "");
            LetheConfig config = f.config(yaml);
            f.start(config);
            RedisCommands<String, String> east = f.redis(SOURCE);
            awaitWatermark(config, east);
            awaitFed(config, f.redis(TARGET), TARGET);
            for (int id = 1; id <= ROWS; id++) {
                east.hset(scope.key("product:" + id), Map.of("v", "0", "d", "v" + id));
            }
            Path file = Files.writeString(dir.resolve("lethe.yml"), yaml);
            assertTrue(killMidBatch(f, scope, file, dir), "the prewarm was killed with copies written");
            RedisCommands<String, String> west = f.redis(TARGET);
            Await.until("the copies the killed prewarm never checked to expire", Duration.ofSeconds(60),
                    () -> copies(west, scope).isEmpty());
        }
    }

    /**
     * The namespace's versions come from a column now (`version: lsn` -> `column:ver`): the target's
     * consumer runs the new file (and invalidated the namespace wholesale), the source's still the
     * old one, whose entries carry LSNs. A copy would keep its LSN, far above every column version,
     * and no invalidation would ever remove it: prewarm copies only between regions whose Redis
     * records the namespace as this file has it.
     */
    @Test
    void aPrewarmFromARegionFedUnderAnotherVersionSourceCopiesNothing(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, val text, ver bigint NOT NULL DEFAULT 1)",
                    "INSERT INTO products SELECT i, 'v' || i, 1 FROM generate_series(1, " + ROWS + ") i");
            String byLsn = products(scope, "60s");
            LetheConfig before = f.config(f.yaml(List.of(SOURCE, TARGET), byLsn, ""));
            LetheConfig after = f.config(f.yaml(List.of(SOURCE, TARGET), byLsn.replace(" }", ", version: \"column:ver\" }"), ""));
            RedisCommands<String, String> east = f.redis(SOURCE);
            RedisCommands<String, String> west = f.redis(TARGET);
            String westMarker = io.lethe.region.apply.TopicMove.markerKey(RegionConsumerService.groupId(after, TARGET));
            try (Pipeline all = Pipeline.start(before, Roles.all(before), f.registry, Clock.systemUTC())) {
                awaitWatermark(before, east);
                Await.until(TARGET + " records what it is fed", Duration.ofSeconds(90), () -> west.exists(westMarker) == 1);
            }
            for (int id = 1; id <= ROWS; id++) {
                east.hset(scope.key("product:" + id), Map.of("v", "26000000", "d", "v" + id)); // filled at an LSN
            }
            // the source region not rolled out yet: its consumer still runs the old file, and is fresh
            try (Pipeline target = Pipeline.start(after, new Roles(true, true, List.of(TARGET)), f.registry, Clock.systemUTC());
                    Pipeline source = Pipeline.start(before, new Roles(false, false, List.of(SOURCE)), f.registry, Clock.systemUTC())) {
                Await.until(TARGET + " fed under the new file", Duration.ofSeconds(120),
                        () -> String.valueOf(west.hget(westMarker, "holds")).contains("column:ver"));
                List<String> refused = new ArrayList<>();
                try (Prewarm prewarm = new Prewarm(after, SOURCE, TARGET, new Prewarm.Options(List.of(), 0, 100_000, 100),
                        Clock.systemUTC())) {
                    prewarm.run((handled, candidates, sofar) -> {
                    });
                } catch (IllegalArgumentException e) {
                    refused.add(e.getMessage());
                }
                assertTrue(copies(west, scope).isEmpty(), "copies of entries filled at an LSN landed in " + TARGET
                        + ", whose column versions never reach them: "
                        + copies(west, scope).subList(0, Math.min(3, copies(west, scope).size())));
                assertTrue(!refused.isEmpty() && refused.get(0).contains(SOURCE), "refused, naming the source: " + refused);
            }
        }
    }

    /**
     * Runs {@code lethe prewarm} in a process of its own; as soon as a copy is in the target,
     * pauses the target's writes (the next copy waits in Redis), kills the process and resumes.
     *
     * @return true when it was killed with copies written, false when it ended without writing any
     */
    private static boolean killMidBatch(PipelineFixture f, TestScope scope, Path file, Path dir) throws Exception {
        RedisCommands<String, String> west = f.redis(TARGET);
        try (ChildJvm prewarm = ChildJvm.start("prewarm", Lethe.class.getName(),
                List.of("prewarm", "--config", file.toString(), "--from", SOURCE, "--to", TARGET), List.of("-Xmx256m"),
                dir.resolve("prewarm.log"))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (copies(west, scope).isEmpty()) {
                if (!prewarm.isAlive()) {
                    assertTrue(prewarm.tail(40).contains("prewarm " + SOURCE + " -> " + TARGET + ":"),
                            "prewarm failed: " + prewarm.tail(40));
                    return false;
                }
                assertTrue(System.nanoTime() < deadline, "prewarm neither copied nor ended: " + prewarm.tail(20));
                Thread.sleep(1);
            }
            client(west, "PAUSE", "20000", "WRITE");
            try {
                prewarm.kill();
            } finally {
                client(west, "UNPAUSE");
            }
            return true;
        }
    }

    private static void client(RedisCommands<String, String> redis, String... args) {
        CommandArgs<String, String> a = new CommandArgs<>(StringCodec.UTF8);
        for (String arg : args) {
            a.add(arg);
        }
        redis.dispatch(CommandType.CLIENT, new StatusOutput<>(StringCodec.UTF8), a);
    }

    /** The source region holds the old value of every row, its consumer stopped; the target applied the changes, fences expired. */
    private static LetheConfig laggingSource(PipelineFixture f, TestScope scope) throws Exception {
        createProducts(f);
        LetheConfig config = f.config(f.yaml(List.of(SOURCE, TARGET), products(scope, "2s"), ""));
        Pipeline rest = Pipeline.start(config, new Roles(true, true, List.of(TARGET)), f.registry, Clock.systemUTC());
        f.own(rest);
        RedisCommands<String, String> east = f.redis(SOURCE);
        try (Pipeline source = Pipeline.start(config, new Roles(false, false, List.of(SOURCE)), f.registry, Clock.systemUTC())) {
            awaitWatermark(config, east);
        }
        for (int id = 1; id <= ROWS; id++) {
            east.hset(scope.key("product:" + id), Map.of("v", "0", "d", "old" + id));
        }
        f.sql("UPDATE products SET val = 'new' || id");
        RedisCommands<String, String> west = f.redis(TARGET);
        awaitFed(config, west, TARGET);
        String last = RedisLayout.fenceKey(scope.key("product:" + ROWS));
        Await.until("the target to apply the changes", Duration.ofSeconds(60), () -> west.exists(last) == 1);
        Await.until("the target's fences to expire", Duration.ofSeconds(60),
                () -> west.keys(RedisLayout.FENCE_PREFIX + "*" + scope.key("product:") + "*").isEmpty());
        return config;
    }

    private static void awaitWatermark(LetheConfig config, RedisCommands<String, String> east) throws InterruptedException {
        String watermark = AppliedLsn.key(RegionConsumerService.groupId(config, SOURCE));
        Await.until(SOURCE + " publishes its applied watermark", Duration.ofSeconds(60),
                () -> AppliedLsn.of(east.hgetall(watermark)).isPresent());
        awaitFed(config, east, SOURCE);
    }

    /** The region's consumer recorded what it is fed (its first feed done): prewarm copies only between such regions. */
    private static void awaitFed(LetheConfig config, RedisCommands<String, String> redis, String region) throws InterruptedException {
        String marker = io.lethe.region.apply.TopicMove.markerKey(RegionConsumerService.groupId(config, region));
        Await.until(region + " records what it is fed", Duration.ofSeconds(90), () -> redis.exists(marker) == 1);
    }

    private static void createProducts(PipelineFixture f) throws Exception {
        f.sql("CREATE TABLE products (id int PRIMARY KEY, val text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                "INSERT INTO products SELECT i, 'v' || i FROM generate_series(1, " + ROWS + ") i");
    }

    private static String products(TestScope scope, String fenceTtl) {
        return "product: { table: public.products, keys: [\"" + scope.key("product:{id}") + "\"], fence-ttl: " + fenceTtl + " }";
    }

    private static List<String> copies(RedisCommands<String, String> west, TestScope scope) {
        return west.keys(scope.key("product:") + "*");
    }

    private static void assertNoStaleCopy(PipelineFixture f, TestScope scope, String what) {
        RedisCommands<String, String> west = f.redis(TARGET);
        List<String> stale = new ArrayList<>();
        for (String key : copies(west, scope)) {
            String d = west.hget(key, "d");
            if (d != null && d.startsWith("old")) {
                stale.add(key + "=" + d);
            }
        }
        assertTrue(stale.isEmpty(), what + " left " + stale.size() + " copies of values the rows no longer hold in " + TARGET
                + ", which its pipeline will not remove: " + stale.subList(0, Math.min(5, stale.size())));
    }
}
