package io.lethe.dev.verify.scenario;

import io.lethe.region.RegionConsumerService;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.redis.RedisLayout;
import java.time.Duration;

/**
 * A region's Redis restarts from a snapshot taken before Lethe applied a change: the old value
 * comes back with the file, and with it the fences as they were. Nothing would ever delete it
 * again before its TTL. The region must notice (the server's run_id is not the one it wrote its
 * checkpoint to) and replay from the checkpoint the snapshot carries.
 */
final class RedisRestoreScenario implements Scenario {
    @Override
    public String name() {
        return "redis-restore";
    }

    @Override
    public String summary() {
        return "a region's Redis restarts from an RDB snapshot older than applied invalidations";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 2);
        LetheConfig config = run.config(Items.namespace(run, ""));
        run.start(config);
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run));
        String region = run.regions().get(0);
        String checkpoint = RedisLayout.checkpointKey(RegionConsumerService.groupId(config, region));
        run.quiesce();
        ScenarioRun.await("the region's checkpoint in Redis", Duration.ofSeconds(30), () -> run.redis(region).exists(checkpoint) == 1);
        Items.fillCurrent(run, "1", 1);
        run.redis(region).save();
        run.done("item 1's keys cached everywhere; SAVE in %s (the snapshot holds the old values)", region);
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1");
        run.quiesce();
        run.done("UPDATE items SET val = 'v1.1' WHERE id = 1: applied in every region");
        run.shutdownRedis(region);
        run.stack().restartRedis(region);
        String key = run.p() + "item:1";
        boolean back = "v1.0".equals(run.redis(region).hget(key, RedisLayout.ENTRY_DATA));
        run.done("SHUTDOWN NOSAVE, then %s restarted from the snapshot: the old value is %s", region,
                back ? "back" : "not back (gone already)");
        long gone = run.millisUntilGone(region, key, Duration.ofSeconds(30));
        run.done("%s: the restored old value %s", region, gone >= 0
                ? "was deleted %d ms after the restart".formatted(gone)
                : "was still there 30 s after the restart");
        run.quiesce();
    }
}
