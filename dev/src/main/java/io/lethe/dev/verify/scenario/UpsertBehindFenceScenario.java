package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.schemas.Versions;
import io.lethe.schemas.redis.RedisLayout;
import java.util.Optional;

/**
 * {@code mode: upsert} with {@code version: column:ver} after a TRUNCATE: the namespace-wide
 * invalidation fences the keys it finds at 2^64 - 1, a reader refills by the fence counter (the
 * real cache client), and the row changes. Every later upsert used to be refused by the fence
 * without deleting the entry, so the refill was served through every change (issue 27, item 4);
 * a refused upsert now deletes it.
 */
final class UpsertBehindFenceScenario implements Scenario {
    @Override
    public String name() {
        return "upsert-behind-fence";
    }

    @Override
    public String summary() {
        return "a reader's refill behind the 2^64 - 1 fence of a TRUNCATE, then the row changes (mode: upsert, column:ver)";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        run.sql("CREATE TABLE prices (id int PRIMARY KEY, price int, ver bigint)", "INSERT INTO prices VALUES (1, 10, 1)");
        String p = run.p();
        run.start(run.config("""
                price:
                  table: public.prices
                  keys: ["%sprice:{id}"]
                  mode: upsert
                  payload-columns: [price]
                  version: column:ver
                """.formatted(p)));
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(key -> {
            try {
                if (!key.startsWith(p + "price:")) {
                    return null;
                }
                String price = run.query("SELECT price FROM prices WHERE id = ?", Integer.parseInt(key.substring((p + "price:").length())));
                return Optional.ofNullable(price == null ? null : "{\"price\":" + price + "}");
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        String region = run.regions().get(0);
        String key = p + "price:1";
        run.fillEverywhere(key, "1", "{\"price\":10}");
        run.sql("TRUNCATE prices");
        run.quiesce();
        String fenceVersion = run.redis(region).hget(RedisLayout.fenceKey(key), RedisLayout.FENCE_VERSION);
        run.expect(Versions.MAX.equals(fenceVersion), "the TRUNCATE must fence " + key + " at 2^64 - 1, found " + fenceVersion);
        run.done("filled %s everywhere; TRUNCATE prices: applied, %s fenced at %s", key, key, fenceVersion);
        run.sql("INSERT INTO prices VALUES (1, 11, 1)");
        run.quiesce();
        run.done("INSERT the row again at ver 1: its upsert is below the fence");
        LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false).build());
        CacheNamespace<String> prices = cache.namespace("price", Codecs.utf8(), Policy.eventual());
        String read = prices.get(key, k -> Loaded.of("{\"price\":" + run.query("SELECT price FROM prices WHERE id = 1") + "}",
                Long.parseLong(run.query("SELECT ver::text FROM prices WHERE id = 1"))));
        run.done("a reader read %s through the cache client: %s, cached: %s", key, read, run.redis(region).exists(key) == 1);
        run.sql("UPDATE prices SET price = 12, ver = 2 WHERE id = 1");
        run.quiesce();
        run.done("UPDATE the row to ver 2: its upsert is below the fence as well");
    }
}
