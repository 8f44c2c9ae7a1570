package io.lethe.dev.verify.scenario;

import io.lethe.dev.verify.mirror.EmbeddedMirrorMaker;
import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Roles;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.apply.TopicMove;
import io.lethe.schemas.redis.RedisLayout;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * A region moved from the primary Kafka cluster onto a cluster of its own, mirrored by
 * MirrorMaker 2 (docs/multi-region.md): the topic keeps its name, so only the Kafka cluster the
 * region reads tells the move. The region reads the primary (its Redis holds its topic marker and
 * checkpoint), is stopped, rows it caches change, the primary's log of its topic is cut (as
 * retention would: the mirror started after that holds nothing older, and its log starts at offset
 * 0), and it is started on the second cluster. Its group has no offsets there and the log starts at
 * 0, so nothing says records are missing: without the cluster recorded in the marker the region
 * keeps the entries of the rows changed while it moved. With it, the region sees another cluster,
 * waits for streams' watermarks through the mirror and invalidates its namespaces wholesale. Then
 * the region is moved back to the primary (the cluster id changes again: the same wholesale). The marker's cluster id
 * is removed before the first move, as a marker of an older version lacks it: that move is found by
 * the group's having no offsets of the topic on the new cluster, the move back by the recorded id.
 */
final class ClusterMoveScenario implements Scenario {
    private static final Duration FED_TIMEOUT = Duration.ofSeconds(120);

    @Override
    public String name() {
        return "cluster-move";
    }

    @Override
    public String summary() {
        return "a region moved onto a mirrored Kafka cluster of its own and back (same topic name): rows changed meanwhile";
    }

    @Override
    public boolean fast() {
        return false; // a second broker and MirrorMaker 2: ClusterMoveIT runs it
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        if (run.regions().size() < 2) {
            throw new IllegalArgumentException("cluster-move needs at least 2 regions (one stays on the primary cluster), was given "
                    + run.regions());
        }
        String moving = run.regions().get(run.regions().size() - 1);
        List<String> others = run.regions().subList(0, run.regions().size() - 1);
        Items.create(run, 8);
        LetheConfig onPrimary = run.config(Items.namespace(run, ""));
        String group = RegionConsumerService.groupId(onPrimary, moving);
        String topic = onPrimary.topics().invalidations(moving);
        run.start(onPrimary, new Roles(true, true, others));
        RegionConsumerService first = new RegionConsumerService(onPrimary, moving, run.registry(), Clock.systemUTC());
        try {
            first.start();
            run.truth(Items.truth(run));
            ScenarioRun.await(moving + "'s first feed", FED_TIMEOUT, first::fed);
            run.quiesce();
            ScenarioRun.await(moving + "'s checkpoint", Duration.ofSeconds(30),
                    () -> run.redis(moving).exists(RedisLayout.checkpointKey(group)) == 1);
            Items.fillCurrent(run, "1", 1, 2, 3);
        } finally {
            first.close();
        }
        // as a marker written by a version before the cluster id was recorded: the move is found by the group having no
        // offsets of the topic on the new cluster (the move back below is found by the id recorded then)
        run.redis(moving).hdel(TopicMove.markerKey(group), TopicMove.CLUSTER);
        run.done("%s read %s on the primary cluster (marker %s without its cluster id, as an older version wrote it; checkpoint "
                + "written); items 1-3 cached everywhere; its consumer stopped", moving, topic, TopicMove.markerKey(group));

        run.sql("UPDATE items SET val = 'moved' WHERE id = 1", "DELETE FROM items WHERE id = 2");
        String probe = RedisLayout.fenceKey(run.p() + "item:1");
        for (String other : others) {
            ScenarioRun.await("the UPDATE in " + other, Duration.ofSeconds(60), () -> run.redis(other).exists(probe) == 1);
            run.expect(run.committedAllItHeld(onPrimary, other, Duration.ofSeconds(60)), other + " committed its topic before the cut");
        }
        long deleted = RetentionScenario.deleteAll(onPrimary, topic);
        run.done("UPDATE item 1, DELETE item 2 while %s was stopped; the primary's %s cut by %d records (as retention would)",
                moving, topic, deleted);

        String second = run.stack().secondKafkaBootstrapServers();
        run.regionSettings(moving, "kafka: { bootstrap-servers: \"" + second + "\" }");
        LetheConfig onSecond = run.config(Items.namespace(run, ""));
        run.expect(onSecond.topics().invalidations(moving).equals(topic), "the topic keeps its name on the region's cluster");
        run.own(EmbeddedMirrorMaker.start(onSecond));
        run.watch(onSecond);
        long t0 = System.nanoTime();
        RegionConsumerService moved = run.own(new RegionConsumerService(onSecond, moving, run.registry(), Clock.systemUTC()));
        moved.start();
        ScenarioRun.await(moving + " fed from the second cluster", FED_TIMEOUT, moved::fed);
        double fedAfter = (System.nanoTime() - t0) / 1e9;
        run.quiesce();
        boolean itemGone = run.redis(moving).exists(run.p() + "item:1") == 0 && run.redis(moving).exists(run.p() + "item:2") == 0;
        run.done("%s started on the second cluster %s (MirrorMaker 2 mirrors %s from the primary's cut log): fed %.1f s later; "
                + "items 1 and 2 %s", moving, second, topic, fedAfter, itemGone ? "gone" : "STILL CACHED");
        run.expect(itemGone, moving + " keeps no entry of a row changed while it moved to another cluster (items 1 and 2)");
        run.expect(movedCount(run, moving) >= 1, moving + " counts the move (lethe.region.topic.moves)");

        // and back onto the primary: the cluster changes again, so does the marker's cluster id
        Items.fillCurrent(run, "1", 3);
        moved.close();
        run.sql("UPDATE items SET val = 'back' WHERE id = 3");
        run.regionSettings(moving, "");
        LetheConfig back = run.config(Items.namespace(run, ""));
        run.watch(back);
        t0 = System.nanoTime();
        RegionConsumerService returned = run.own(new RegionConsumerService(back, moving, run.registry(), Clock.systemUTC()));
        returned.start();
        ScenarioRun.await(moving + " fed from the primary again", FED_TIMEOUT, returned::fed);
        run.quiesce();
        boolean item3Gone = run.redis(moving).exists(run.p() + "item:3") == 0;
        run.done("%s moved back to the primary cluster (item 3 changed while it moved): fed %.1f s later; item 3 %s", moving,
                (System.nanoTime() - t0) / 1e9, item3Gone ? "gone" : "STILL CACHED");
        run.expect(item3Gone, moving + " keeps no entry of a row changed while it moved back (item 3)");
        run.expect(movedCount(run, moving) >= 2, moving + " counts the move back (lethe.region.topic.moves)");
        // and applies as usual afterwards: entries of items 5 and 6 cached everywhere, item 5 changed; the judge compares them
        Items.fillCurrent(run, "1", 5, 6);
        run.sql("UPDATE items SET val = 'after' WHERE id = 5");
        run.quiesce();
        run.secondJudge();
    }

    private static double movedCount(ScenarioRun run, String region) {
        return run.registry().find("lethe.region.topic.moves").tag("region", region).counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }
}
