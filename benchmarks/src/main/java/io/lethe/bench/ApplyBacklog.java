package io.lethe.bench;

import io.lethe.bench.raw.Rate;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.serde.EventJson;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The region consumer alone: a backlog of invalidations is written to a region topic of their
 * own first, then one region consumer applies all of it. Its rate, from its first applied batch
 * to its last, is what the applier can do when it is not waiting for the stages before it.
 */
final class ApplyBacklog {
    private ApplyBacklog() {
    }

    /**
     * @param config    a configuration whose topic prefix and group prefix nobody else uses
     * @param keyPrefix prefix of the cache keys invalidated
     */
    static Rate run(LetheConfig config, String region, String namespace, String keyPrefix, long events, Duration timeout)
            throws Exception {
        TopicSetup.ensure(config, io.lethe.config.KafkaRole.CLI, TopicSetup.pipelineTopics(config), Duration.ofSeconds(30));
        String topic = config.topics().invalidations(region);
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.region(region),
                "bench-backlog-" + region);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        // The topic is brand new: its first batch can be refused (NOT_LEADER_OR_FOLLOWER) while
        // the broker takes up leadership, and with several requests in flight the later batches
        // then land first and the first one is refused for good as out of sequence. One request
        // at a time keeps the backlog whole; it is written before the clock starts.
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        long now = System.currentTimeMillis() * 1000;
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (long i = 0; i < events; i++) {
                InvalidationEvent e = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "backlog-" + i, namespace, Scope.ROW,
                        keyPrefix + i, null, Action.DELETE, null, Long.toString(1000 + i), 1000 + i, 1L, now, now, now, null,
                        Op.UPDATE, null, null);
                acks.add(producer.send(new ProducerRecord<>(topic, e.target(), EventJson.write(e))));
            }
            producer.flush();
            for (Future<RecordMetadata> ack : acks) {
                try {
                    ack.get();
                } catch (ExecutionException e) {
                    throw new IllegalStateException("writing the backlog of " + events + " to " + topic + " failed: " + e.getCause(),
                            e.getCause());
                }
            }
        }
        AtomicLong applied = new AtomicLong();
        AtomicLong first = new AtomicLong();
        AtomicLong firstBatch = new AtomicLong();
        AtomicLong last = new AtomicLong();
        try (RegionConsumerService consumer = new RegionConsumerService(config, region, new SimpleMeterRegistry(), Clock.systemUTC())) {
            consumer.addListener(batch -> {
                long t = System.nanoTime();
                if (first.compareAndSet(0, t)) {
                    firstBatch.set(batch.size());
                }
                applied.addAndGet(batch.size());
                last.set(t);
            });
            consumer.start();
            long deadline = System.nanoTime() + timeout.toNanos();
            while (applied.get() < events) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("region " + region + " applied " + applied.get() + " of a backlog of " + events);
                }
                Thread.sleep(10);
            }
        }
        // the first batch was waiting before the clock started: count from its end
        return new Rate(events - firstBatch.get(), (last.get() - first.get()) / 1e9);
    }
}
