package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.schemas.redis.RedisLayout;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Readers whose load outlives the fence: {@code fence-ttl: 2s}, and two readers (through the real
 * cache client) that load item 1 and item 2, hold on to what they read, and fill only after an
 * UPDATE's invalidation landed and its fence expired. Reader 1 saw no fence at its miss; reader 2
 * saw one and loads with the row's version. Both fills used to be accepted, putting the old value
 * back for good; both are refused now (the client knows the namespace's fence TTL; fill.lua
 * refuses a fill whose fence vanished since the miss).
 */
final class SlowReaderScenario implements Scenario {
    private static final Duration FENCE_TTL = Duration.ofSeconds(2);

    @Override
    public String name() {
        return "slow-reader";
    }

    @Override
    public String summary() {
        return "loads that outlive fence-ttl while the row changes";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 4);
        run.start(run.config(Items.namespace(run, "fence-ttl: 2s")));
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run));
        String region = run.regions().get(0);
        String key1 = run.p() + "item:1";
        String key2 = run.p() + "item:2";
        run.sql("UPDATE items SET val = 'v2.1' WHERE id = 2");
        ScenarioRun.await("the first invalidation of item 2", Duration.ofSeconds(60),
                () -> run.redis(region).exists(RedisLayout.fenceKey(key2)) == 1);
        run.done("UPDATE item 2 once, so that its fence exists when reader 2 misses");
        LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false).build());
        CacheNamespace<String> items = cache.namespace("item", Codecs.utf8(), Policy.eventual().withFenceTtl(FENCE_TTL));
        CountDownLatch loaded = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> reader1 = items.getAsync(key1, k -> slowLoad(run, 1, null, loaded, release));
        String version2 = run.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
        CompletableFuture<String> reader2 = items.getAsync(key2, k -> slowLoad(run, 2, version2, loaded, release));
        if (!loaded.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the readers did not load");
        }
        run.done("reader 1 (no fence at its miss, unversioned) and reader 2 (fence at its miss, version %s) loaded, and wait", version2);
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1", "UPDATE items SET val = 'v2.2' WHERE id = 2");
        for (String key : new String[] {key1, key2}) {
            ScenarioRun.await("the fence of " + key, Duration.ofSeconds(60),
                    () -> run.redis(region).exists(RedisLayout.fenceKey(key)) == 1);
        }
        for (String key : new String[] {key1, key2}) {
            ScenarioRun.await("the fence of " + key + " to expire", Duration.ofSeconds(30),
                    () -> run.redis(region).exists(RedisLayout.fenceKey(key)) == 0);
        }
        run.done("UPDATE items 1 and 2; their invalidations landed in %s and the fences expired (fence-ttl 2s)", region);
        release.countDown();
        reader1.get(30, TimeUnit.SECONDS);
        reader2.get(30, TimeUnit.SECONDS);
        run.done("the readers filled what they had loaded before the UPDATE");
        run.quiesce();
    }

    private static Loaded<String> slowLoad(ScenarioRun run, int id, String version, CountDownLatch loaded, CountDownLatch release)
            throws Exception {
        String val = run.query("SELECT val FROM items WHERE id = ?", id);
        loaded.countDown();
        if (!release.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("never released");
        }
        return version == null ? Loaded.of(val) : Loaded.of(val, Long.parseLong(version));
    }
}
