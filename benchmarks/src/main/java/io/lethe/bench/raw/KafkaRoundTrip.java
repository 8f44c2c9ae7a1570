package io.lethe.bench.raw;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The broker's limit for records of Lethe's size: produce (acks=all, idempotent, as capture does), then consume. */
public final class KafkaRoundTrip {
    /** Produce and consume rates. */
    public record Result(Rate produce, Rate consume) {
    }

    private final String bootstrap;

    public KafkaRoundTrip(String bootstrap) {
        this.bootstrap = bootstrap;
    }

    /**
     * A new topic's partitions take a moment to get a leader that accepts writes; an idempotent
     * producer whose first batch is refused meanwhile can see its later batches land first and
     * the first refused for good. One record per partition, sent and acknowledged before the
     * clock starts, makes sure every leader is ready. Returns how many were sent.
     */
    private int awaitWritable(String topic, int partitions, Properties producerProps) throws Exception {
        try (KafkaProducer<String, byte[]> probe = new KafkaProducer<>(producerProps, new StringSerializer(), new ByteArraySerializer())) {
            for (int partition = 0; partition < partitions; partition++) {
                probe.send(new ProducerRecord<>(topic, partition, "probe", new byte[0])).get(60, TimeUnit.SECONDS);
            }
        }
        return partitions;
    }

    public Result run(String topic, int partitions, long records, int recordBytes) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        byte[] value = new byte[recordBytes];
        java.util.Arrays.fill(value, (byte) 'x');
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        int probes = awaitWritable(topic, partitions, p);
        AtomicReference<Exception> failed = new AtomicReference<>();
        long t0 = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            for (long i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, "public.bench_items:" + i, value), (m, e) -> {
                    if (e != null) {
                        failed.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
        }
        Rate produce = Rate.since(records, t0);
        if (failed.get() != null) {
            throw new IllegalStateException("producing " + records + " records to " + topic + " failed: " + failed.get(), failed.get());
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        long t1 = System.nanoTime();
        long seen = 0;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = consumer.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            while (seen < records + probes) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("consumed " + seen + " of " + (records + probes) + " records of " + topic);
                }
                seen += consumer.poll(Duration.ofMillis(200)).count();
            }
        }
        seen -= probes;
        return new Result(produce, Rate.since(seen, t1));
    }
}
