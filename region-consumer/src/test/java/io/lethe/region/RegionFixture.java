package io.lethe.region;

import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.serde.EventJson;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Config, event production and Redis access for region-consumer tests. */
final class RegionFixture implements AutoCloseable {
    final LetheStack stack;
    final TestScope scope;
    private final RedisClient client = RedisClient.create();
    private final Map<String, StatefulRedisConnection<String, String>> connections = new LinkedHashMap<>();
    private KafkaProducer<String, byte[]> producer;

    RegionFixture(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
    }

    /**
     * YAML with regions given as "name: uri-or-yaml-flow" lines and the test's namespaces. The
     * regions' sweep is off unless {@code apply} sets it: these tests have no database of rows (the
     * source is a placeholder), and a sweep would only wait for one.
     */
    String yaml(Map<String, String> regions, String namespaces, String apply) {
        if (!apply.contains("sweep:")) {
            apply = apply.isEmpty() ? "sweep: { enabled: false }" : apply + "\nsweep: { enabled: false }";
        }
        StringBuilder r = new StringBuilder();
        regions.forEach((name, body) -> r.append("  ").append(name).append(": ").append(body).append('\n'));
        return """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "%s", topic-prefix: %s, partitions: 3 }
                apply:
                  group-prefix: %s-region-
                  retry-backoff-min: 50ms
                  retry-backoff-max: 500ms
                  command-timeout: 1s
                %s
                regions:
                %snamespaces:
                %s
                """.formatted(stack.kafkaBootstrapServers(), scope.topicPrefix(), scope.id(), apply.indent(2), r, namespaces.indent(2));
    }

    LetheConfig config(String yaml) {
        return config(yaml, System::getenv);
    }

    /** The config of {@code yaml}, with {@code ${NAME}} secrets read from {@code environment}. */
    LetheConfig config(String yaml, UnaryOperator<String> environment) {
        LetheConfig config = ConfigLoader.parse(scope.id() + ".yml", yaml, environment::apply);
        TopicSetup.ensure(config, KafkaRole.CLI, TopicSetup.pipelineTopics(config), Duration.ofSeconds(30));
        return config;
    }

    static Path write(Path dir, String yaml) throws IOException {
        Path file = dir.resolve("lethe.yml");
        Files.writeString(file, yaml);
        return file;
    }

    static InvalidationEvent key(String namespace, String key, String version) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, UUID.randomUUID().toString(), namespace, Scope.ROW, key,
                null, Action.DELETE, null, version, Long.parseLong(version), 1L, now(), now(), now(), null, Op.UPDATE, null, null);
    }

    static InvalidationEvent pattern(String namespace, Scope scope, String glob, String version, Op op) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, UUID.randomUUID().toString(), namespace, scope, null,
                glob, Action.DELETE, null, version, Long.parseLong(version), 1L, now(), now(), now(), null, op, null, null);
    }

    static long now() {
        return System.currentTimeMillis() * 1000;
    }

    void send(String topic, InvalidationEvent e) {
        producer().send(new ProducerRecord<>(topic, e.target(), EventJson.write(e)));
    }

    /**
     * {@link #send} of an upsert stamped as a streams on {@code config} stamps it ({@code lethe.holds}: what its
     * namespace's entries hold there); without the stamp a region applies it as the delete at its version.
     */
    void sendUpsert(String topic, LetheConfig config, InvalidationEvent e) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, e.target(), EventJson.write(e));
        record.headers().add(io.lethe.schemas.Headers.HOLDS,
                config.namespaces().get(e.namespace()).holdsFingerprint().getBytes(StandardCharsets.UTF_8));
        producer().send(record);
    }

    /**
     * {@link #send} to one partition with the record timestamp {@code timestamp} (epoch ms): a
     * record older than every replay window, so only a checkpoint brings it back.
     */
    void send(String topic, int partition, long timestamp, InvalidationEvent e) {
        producer().send(new ProducerRecord<>(topic, partition, timestamp, e.target(), EventJson.write(e)));
    }

    /** A heartbeat's watermark ({@code lsn}, commit time now, changes partition 0) on one partition of {@code topic}. */
    void sendWatermark(String topic, int partition, long lsn) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, partition, Watermark.KEY, new byte[0]);
        new Watermark(now(), lsn, 0).writeTo(record.headers());
        producer().send(record);
    }

    /**
     * A heartbeat at {@code lsn} of every partition of the changes topic (3 in {@link #yaml}), on every
     * partition of {@code topic}: 9 records. Once read, each partition has a replay floor, so the
     * upserts after them are written (before it, an upsert is applied as a delete: issue 34).
     */
    void sendHeartbeats(String topic, long lsn) {
        for (int partition = 0; partition < 3; partition++) {
            for (int source = 0; source < 3; source++) {
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, partition, Watermark.KEY, new byte[0]);
                new Watermark(now(), lsn, source).writeTo(record.headers());
                producer().send(record);
            }
        }
        flush();
    }

    /** Waits until the region's applied watermark (published in {@code redis} for {@code group}) reached {@code lsn}. */
    static void awaitHeartbeatsApplied(RedisCommands<String, String> redis, String group, long lsn) throws InterruptedException {
        await("the heartbeats at " + lsn + " applied", Duration.ofSeconds(60), () -> AppliedLsn
                .of(redis.hgetall(AppliedLsn.key(group))).orElse(-1) >= lsn);
    }

    /** Sends {@code record} as it is (its partition and headers chosen by the test). */
    void sendRecord(ProducerRecord<String, byte[]> record) {
        producer().send(record);
    }

    void sendRaw(String topic, String key, byte[] value) {
        producer().send(new ProducerRecord<>(topic, key, value));
    }

    void flush() {
        producer().flush();
    }

    private KafkaProducer<String, byte[]> producer() {
        if (producer == null) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
            p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
            producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    RedisCommands<String, String> redis(String region) {
        return connections.computeIfAbsent(region, r -> client.connect(RedisURI.create(stack.redisUri(r)))).sync();
    }

    /**
     * Starts region us-east of a config whose only region is {@code redis}, and waits until an
     * invalidation sent to its topic deleted an entry and fenced it on the Redis whose plain-text
     * port is {@code checkPort} (read without the region's TLS or Sentinel).
     */
    void assertUsEastAppliesThrough(String redis, int checkPort) throws Exception {
        String p = scope.keyPrefix();
        LetheConfig config = config(
                yaml(Map.of("us-east", redis), "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
        RedisClient plain = RedisClient.create();
        try (StatefulRedisConnection<String, String> check = plain.connect(RedisURI.create("redis://127.0.0.1:" + checkPort));
                RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(),
                        Clock.systemUTC())) {
            String key = p + "product:1";
            check.sync().hset(key, Map.of("v", "1", "d", "old"));
            region.start();
            send(config.topics().invalidations("us-east"), key("product", key, "5"));
            flush();
            await("the invalidation applied through " + redis, Duration.ofSeconds(30),
                    () -> check.sync().exists(key) == 0 && "5".equals(check.sync().hget(RedisLayout.fenceKey(key), "v")));
            if (!region.isRunning()) {
                throw new AssertionError("region us-east stopped");
            }
        } finally {
            plain.shutdown();
        }
    }

    /** Committed offsets of a group, summed over partitions. */
    long committed(String group, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            Map<TopicPartition, OffsetAndMetadata> offsets = GroupOffsets.committed(admin, group, Duration.ofSeconds(30));
            return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topic))
                    .mapToLong(e -> e.getValue() == null ? 0 : e.getValue().offset()).sum();
        }
    }

    /** End offsets of a topic, summed over partitions. */
    long endOffsets(String topic, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            List<TopicPartition> request = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                request.add(new TopicPartition(topic, p));
            }
            return GroupOffsets.latest(admin, request, Duration.ofSeconds(30)).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** The headers of the first {@code count} records of the DLQ topic, waiting up to {@code timeout}. */
    List<Map<String, String>> deadLetters(String topic, int count, Duration timeout) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<Map<String, String>> out = new ArrayList<>();
        try (var c = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < count && System.nanoTime() < deadline) {
                for (var r : c.poll(Duration.ofMillis(200))) {
                    Map<String, String> h = new HashMap<>();
                    for (var header : r.headers()) {
                        h.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
                    }
                    out.add(h);
                }
            }
        }
        return out;
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    static List<String> keys(String prefix, int n) {
        return IntStream.rangeClosed(1, n).mapToObj(i -> prefix + i).toList();
    }

    @Override
    public void close() {
        if (producer != null) {
            producer.close();
        }
        connections.values().forEach(StatefulRedisConnection::close);
        client.shutdown();
    }
}
