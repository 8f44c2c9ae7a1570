package io.lethe.cli.verify.scenario;

import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Roles;
import io.lethe.streams.StreamsService;
import java.time.Clock;

/**
 * invalidation-streams is down for longer than the changes topic's retention: the changes it never
 * mapped are deleted. Kafka Streams resets to the log's start without a word, so their
 * invalidations were never made. Streams must see that its committed offset fell off the log and
 * reset every namespace.
 */
final class StreamsRetentionScenario implements Scenario {
    @Override
    public String name() {
        return "streams-retention";
    }

    @Override
    public String summary() {
        return "invalidation-streams down past the changes topic's retention";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 4);
        LetheConfig config = run.config(Items.namespace(run, ""));
        run.start(config, new Roles(true, false, run.regions()));
        StreamsService first = new StreamsService(config, run.registry(), Clock.systemUTC(), "first");
        first.start();
        run.truth(Items.truth(run));
        run.quiesce();
        Items.fillCurrent(run, "1", 1, 3);
        first.close();
        run.done("items 1, 3 cached everywhere; invalidation-streams stopped");
        String topic = config.topics().changes();
        long before = RetentionScenario.endOffsets(config, topic);
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1", "DELETE FROM items WHERE id = 3");
        ScenarioRun.await("capture to publish the two changes", java.time.Duration.ofSeconds(60), () -> {
            try {
                return RetentionScenario.endOffsets(config, topic) >= before + 2;
            } catch (Exception e) {
                return false;
            }
        });
        long deleted = RetentionScenario.deleteAll(config, topic);
        run.done("UPDATE item 1, DELETE item 3 while streams is down; then the changes topic's %d records deleted", deleted);
        StreamsService back = run.own(new StreamsService(config, run.registry(), Clock.systemUTC(), "back"));
        back.start();
        run.done("invalidation-streams started again");
        run.quiesce();
        run.expect(run.registry().find("lethe.streams.offsets.lost").counters().stream().mapToDouble(c -> c.count()).sum() > 0,
                "streams must count the lost offsets (lethe.streams.offsets.lost)");
    }
}
