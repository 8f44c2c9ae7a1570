package io.lethe.dev.verify.scenario;

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
        long before = itemChanges(config, topic);
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1", "DELETE FROM items WHERE id = 3");
        // the topic also holds capture's watermarks: count the items' changes themselves
        ScenarioRun.await("capture to publish the two changes", java.time.Duration.ofSeconds(60),
                () -> itemChanges(config, topic) >= before + 2);
        long deleted = RetentionScenario.deleteAll(config, topic);
        run.done("UPDATE item 1, DELETE item 3 while streams is down; then the changes topic's %d records deleted", deleted);
        StreamsService back = run.own(new StreamsService(config, run.registry(), Clock.systemUTC(), "back"));
        back.start();
        run.done("invalidation-streams started again");
        run.quiesce();
        run.expect(run.registry().find("lethe.streams.offsets.lost").counters().stream().mapToDouble(c -> c.count()).sum() > 0,
                "streams must count the lost offsets (lethe.streams.offsets.lost)");
    }

    /** The change records of {@code public.items} on {@code topic} (watermarks and other tables left out). */
    private static long itemChanges(LetheConfig config, String topic) {
        java.util.Map<String, Object> props = io.lethe.config.KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI,
                "scenario-streams-retention");
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(props,
                new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor(topic, java.time.Duration.ofSeconds(10)).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            long count = 0;
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (var r : consumer.poll(java.time.Duration.ofMillis(200))) {
                    if (r.key() != null && r.key().startsWith("public.items:")) {
                        count++;
                    }
                }
            }
            return count;
        }
    }
}
