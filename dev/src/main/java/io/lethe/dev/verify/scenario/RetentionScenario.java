package io.lethe.dev.verify.scenario;

import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.pipeline.Roles;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.redis.RedisLayout;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.common.TopicPartition;

/**
 * A region is down for longer than its topic's retention: the invalidations it never applied are
 * deleted from Kafka. Its consumer used to reset to the log's start without a word, skipping them
 * for good. It must see that its offset fell off the log and invalidate its namespaces wholesale.
 */
final class RetentionScenario implements Scenario {
    private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);
    @Override
    public String name() {
        return "retention";
    }

    @Override
    public String summary() {
        return "a region down past its topic's retention: unapplied invalidations deleted";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 4);
        LetheConfig config = run.config(Items.namespace(run, ""));
        List<String> others = run.regions().subList(1, run.regions().size());
        String region = run.regions().get(0);
        run.start(config, new Roles(true, true, others));
        RegionConsumerService down = new RegionConsumerService(config, region, run.registry(), Clock.systemUTC());
        down.start();
        run.truth(Items.truth(run));
        run.quiesce();
        Items.fillCurrent(run, "1", 1, 2);
        down.close();
        run.done("items 1, 2 cached everywhere; region %s's consumer stopped", region);
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1", "DELETE FROM items WHERE id = 2");
        String topic = config.topics().invalidations(region);
        String probe = RedisLayout.fenceKey(run.p() + "item:1");
        if (!others.isEmpty()) {
            ScenarioRun.await("the UPDATE in " + others.get(0), Duration.ofSeconds(60), () -> run.redis(others.get(0)).exists(probe) == 1);
        }
        long deleted = deleteAll(config, topic);
        run.done("UPDATE item 1, DELETE item 2 while %s is down; then its topic's %d records deleted (as retention would)", region,
                deleted);
        RegionConsumerService back = run.own(new RegionConsumerService(config, region, run.registry(), Clock.systemUTC()));
        back.start();
        run.done("region %s's consumer started again", region);
        run.quiesce();
        run.expect(run.registry().find("lethe.region.offsets.lost").tag("region", region).counters().stream()
                .mapToDouble(c -> c.count()).sum() > 0, "the region must count the lost offsets (lethe.region.offsets.lost)");
    }

    /** The sum of {@code topic}'s end offsets. */
    static long endOffsets(LetheConfig config, String topic) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "scenario-retention"))) {
            return GroupOffsets.latest(admin, GroupOffsets.partitions(admin, topic, KAFKA_TIMEOUT), KAFKA_TIMEOUT).values().stream()
                    .mapToLong(Long::longValue).sum();
        }
    }

    /** Deletes every record of {@code topic} (the log start moves to its end); returns how many. */
    static long deleteAll(LetheConfig config, String topic) throws Exception {
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "scenario-retention"))) {
            Map<TopicPartition, RecordsToDelete> delete = new HashMap<>();
            long[] total = {0};
            GroupOffsets.latest(admin, GroupOffsets.partitions(admin, topic, KAFKA_TIMEOUT), KAFKA_TIMEOUT).forEach((tp, end) -> {
                delete.put(tp, RecordsToDelete.beforeOffset(end));
                total[0] += end;
            });
            admin.deleteRecords(delete).all().get();
            return total[0];
        }
    }
}
