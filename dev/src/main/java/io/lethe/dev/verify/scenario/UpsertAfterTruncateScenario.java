package io.lethe.dev.verify.scenario;

import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.region.RegionConsumerService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * {@code mode: upsert} and a TRUNCATE. The upsert of an UPDATE committed before the TRUNCATE is
 * delivered again afterwards (at-least-once: a producer retry, a replay, another partition
 * behind), while its key is absent (evicted), so no fence stands in its way. It used to write
 * the deleted row's value back; the namespace's wide watermark turns it into a delete.
 */
final class UpsertAfterTruncateScenario implements Scenario {
    @Override
    public String name() {
        return "upsert-truncate";
    }

    @Override
    public String summary() {
        return "an older upsert delivered again after a TRUNCATE (mode: upsert)";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        run.sql("CREATE TABLE prices (id int PRIMARY KEY, price int)", "INSERT INTO prices VALUES (1, 10), (2, 20)");
        String p = run.p();
        LetheConfig config = run.config("""
                price:
                  table: public.prices
                  keys: ["%sprice:{id}"]
                  mode: upsert
                  payload-columns: [price]
                """.formatted(p));
        run.start(config);
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
        run.sql("UPDATE prices SET price = 11 WHERE id = 1");
        ScenarioRun.await("the upsert of " + key, Duration.ofSeconds(60), () -> run.redis(region).exists(key) == 1);
        run.done("UPDATE prices SET price = 11 WHERE id = 1: upserted in every region");
        String topic = config.topics().invalidations(region);
        ConsumerRecord<String, byte[]> upsert = find(config, topic, key);
        run.regions().forEach(r -> run.redis(r).del(key, io.lethe.schemas.redis.RedisLayout.fenceKey(key)));
        run.done("the entry and its fence evicted (fences carry TTLs: volatile-* policies evict them first)");
        run.sql("TRUNCATE prices");
        run.quiesce();
        run.done("TRUNCATE prices: applied in every region");
        long offset = redeliver(config, upsert);
        awaitCommitted(config, region, new TopicPartition(topic, upsert.partition()), offset);
        run.done("the UPDATE's upsert delivered again on %s-%d@%d and applied", topic, upsert.partition(), offset);
        run.quiesce();
    }

    private static ConsumerRecord<String, byte[]> find(LetheConfig config, String topic, String key) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "scenario-reader");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (key.equals(r.key())) {
                        return r;
                    }
                }
            }
        }
        throw new IllegalStateException("no record for " + key + " on " + topic);
    }

    private static long redeliver(LetheConfig config, ConsumerRecord<String, byte[]> r) throws Exception {
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "scenario-redelivery");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            RecordMetadata meta = producer.send(new ProducerRecord<>(r.topic(), r.partition(), r.key(), r.value(), r.headers())).get();
            return meta.offset();
        }
    }

    private static void awaitCommitted(LetheConfig config, String region, TopicPartition tp, long offset) throws InterruptedException {
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "scenario-admin"))) {
            ScenarioRun.await("region " + region + " to apply " + tp + "@" + offset, Duration.ofSeconds(60), () -> {
                try {
                    OffsetAndMetadata committed = GroupOffsets
                            .committed(admin, RegionConsumerService.groupId(config, region), Duration.ofSeconds(10)).get(tp);
                    return committed != null && committed.offset() > offset;
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }
}
