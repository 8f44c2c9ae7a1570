package io.lethe.dev.verify.scenario;

import io.lethe.schemas.redis.RedisLayout;
import java.time.Duration;
import java.util.List;

/**
 * The {@code redis-restore} situation in a region on a 3-master Redis Cluster: the master that
 * holds a cached row restarts from its own snapshot, taken before an invalidation was applied,
 * while the other masters keep their data. Each master keeps its own checkpoint in a slot it owns,
 * so that master's restore is noticed and replayed from its checkpoint.
 */
final class RedisClusterRestoreScenario implements Scenario {
    @Override
    public String name() {
        return "redis-cluster-restore";
    }

    @Override
    public String summary() {
        return "one master of a region's Redis Cluster restarts from an older snapshot";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 2);
        String region = run.regions().get(0);
        run.clusterRegion(region);
        run.start(run.config(Items.namespace(run, "")));
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run));
        run.quiesce();
        String key = run.p() + "item:1";
        Items.fillCurrent(run, "1", 1);
        int owner = owner(run, key);
        String node = run.stack().redisClusterNodeUris().get(owner);
        String checkpoint = checkpointOn(node, run);
        ScenarioRun.await("a checkpoint on cluster node " + owner, Duration.ofSeconds(30), () -> checkpointOn(node, run) != null);
        ScenarioRun.onServer(node, c -> c.sync().save());
        run.done("item 1's keys cached; the master holding %s (node %d, checkpoint %s) saved a snapshot", key, owner,
                checkpoint == null ? checkpointOn(node, run) : checkpoint);
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1");
        run.quiesce();
        run.done("UPDATE items SET val = 'v1.1' WHERE id = 1: applied in every region");
        ScenarioRun.shutdownServer(node);
        run.stack().restartRedisClusterNode(owner);
        boolean back = "v1.0".equals(run.redis(region).hget(key, RedisLayout.ENTRY_DATA));
        run.done("SHUTDOWN NOSAVE, then node %d restarted from its snapshot: the old value is %s", owner, back ? "back" : "not back");
        long gone = run.millisUntilGone(region, key, Duration.ofSeconds(30));
        run.done("the restored old value %s", gone >= 0
                ? "was deleted %d ms after the restart".formatted(gone)
                : "was still there 30 s after the restart");
        run.quiesce();
    }

    /** Index of the cluster node that owns {@code key}'s slot (the others answer MOVED). */
    private static int owner(ScenarioRun run, String key) {
        List<String> nodes = run.stack().redisClusterNodeUris();
        for (int i = 0; i < nodes.size(); i++) {
            String[] answer = new String[1];
            ScenarioRun.onServer(nodes.get(i), c -> {
                try {
                    c.sync().hget(key, RedisLayout.ENTRY_DATA);
                    answer[0] = "owner";
                } catch (RuntimeException moved) {
                    answer[0] = null;
                }
            });
            if (answer[0] != null) {
                return i;
            }
        }
        throw new IllegalStateException("no cluster node owns " + key);
    }

    /** The checkpoint key of this run's region held by {@code node}, or null. */
    private static String checkpointOn(String node, ScenarioRun run) {
        String[] found = new String[1];
        ScenarioRun.onServer(node, c -> {
            for (String k : c.sync().keys(RedisLayout.CHECKPOINT_PREFIX + "*" + run.id() + "-region-*")) {
                found[0] = k;
            }
        });
        return found[0];
    }
}
