package io.lethe.examples;

import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.Topics;
import io.lethe.schemas.serde.EventJson;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * How another team consumes Lethe's public topic: subscribe to {@code lethe.invalidations},
 * decode with the schemas module, drop redeliveries by event id, and commit only after the
 * events were handled (at-least-once, like Lethe itself). Treat what you read as input from
 * outside, as Lethe's regions do (docs/runbook.md, "What a region refuses"): act only on the
 * namespaces and key prefixes you cache, and never apply a pattern wider than the keys you would
 * purge yourself; a Kafka record proves nothing about who wrote it.
 *
 * <pre>
 *   java -cp ... io.lethe.examples.InvalidationSubscriber 127.0.0.1:9092 my-team-group [topic-prefix]
 * </pre>
 */
public final class InvalidationSubscriber implements AutoCloseable {
    /** Ids remembered for dedupe; redeliveries come soon after the original, so a bounded window is enough. */
    private static final int DEDUPE_WINDOW = 100_000;

    private final KafkaConsumer<String, byte[]> consumer;
    private final Consumer<InvalidationEvent> handler;
    private final Map<String, Boolean> seen = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > DEDUPE_WINDOW;
        }
    };
    private volatile boolean running = true;

    public InvalidationSubscriber(String bootstrapServers, String groupId, String topicPrefix, Consumer<InvalidationEvent> handler) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        this.consumer.subscribe(List.of(new Topics(topicPrefix).invalidations()));
        this.handler = handler;
    }

    /** Polls once: handles each new event, skips duplicates and undecodable records, then commits. */
    public int pollOnce(Duration timeout) {
        int handled = 0;
        for (ConsumerRecord<String, byte[]> record : consumer.poll(timeout)) {
            if (Watermark.isWatermark(record.key())) {
                continue; // Lethe's lag measurement (capture's heartbeats), not an invalidation
            }
            InvalidationEvent event;
            try {
                event = EventJson.readInvalidation(record.value());
            } catch (SchemaViolationException e) {
                System.err.printf("skipping %s-%d@%d: %s%n", record.topic(), record.partition(), record.offset(), e.getMessage());
                continue;
            }
            if (seen.put(event.id(), Boolean.TRUE) != null) {
                continue; // a redelivery: at-least-once
            }
            handler.accept(event);
            handled++;
        }
        consumer.commitSync();
        return handled;
    }

    public void run() {
        while (running) {
            pollOnce(Duration.ofMillis(500));
        }
    }

    public void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public void close() {
        consumer.close();
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: InvalidationSubscriber <bootstrap-servers> <group-id> [topic-prefix]");
            System.exit(2);
        }
        String prefix = args.length > 2 ? args[2] : Topics.DEFAULT_PREFIX;
        try (InvalidationSubscriber subscriber = new InvalidationSubscriber(args[0], args[1], prefix,
                e -> System.out.printf("%s %s %s v%s (%s)%n", e.namespace(), e.scope().code(), e.target(), e.version(), e.op().code()))) {
            Runtime.getRuntime().addShutdownHook(new Thread(subscriber::stop));
            subscriber.run();
        } catch (org.apache.kafka.common.errors.WakeupException stopped) {
            // Ctrl-C
        }
    }
}
