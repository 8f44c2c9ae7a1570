package io.lethe.bench;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.serde.EventJson;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One pattern invalidation over a Redis holding many keys, and the region's commit → applied
 * latency of ordinary key invalidations offered meanwhile. The Redis is the installed
 * {@code redis-server} (a child process on a free port, stopped at the end), filled with
 * {@code DEBUG POPULATE} ({@code bench:other:<n>} strings) plus {@code --matching} versioned
 * entries {@code bench:search:<n>} that the pattern {@code bench:search:*} matches; Kafka is the
 * embedded broker. Each run puts the matching entries back, sends the pattern, and offers key
 * invalidations at {@code --rate} a second until the pattern is applied; the region consumer
 * runs with its defaults (pattern-scan-count 500, pattern-keys-per-second 20,000).
 *
 * <pre>
 * java -cp "benchmarks/target/lethe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" io.lethe.bench.PatternAtScale \
 *     --keys 10000000 --matching 10000 --rate 200 --runs 3
 * </pre>
 */
public final class PatternAtScale {
    private PatternAtScale() {
    }

    public static void main(String[] args) throws Exception {
        long keys = 10_000_000;
        int matching = 10_000;
        int rate = 200;
        int runs = 3;
        for (int i = 0; i < args.length; i += 2) {
            switch (args[i]) {
                case "--keys" -> keys = Long.parseLong(args[i + 1]);
                case "--matching" -> matching = Integer.parseInt(args[i + 1]);
                case "--rate" -> rate = Integer.parseInt(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; options: --keys --matching --rate --runs");
            }
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path dir = Files.createTempDirectory("lethe-pattern-bench");
        Process redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--enable-debug-command", "local", "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        System.out.println("redis-server pid " + redis.pid() + " on 127.0.0.1:" + port);
        RedisClient client = RedisClient.create("redis://127.0.0.1:" + port);
        try (EmbeddedStack stack = EmbeddedStack.start(EmbeddedStack.Options.defaults().withRegions(List.of("bench")));
                StatefulRedisConnection<String, String> c = connect(client)) {
            long t0 = System.nanoTime();
            c.sync().dispatch(io.lettuce.core.protocol.CommandType.DEBUG,
                    new io.lettuce.core.output.StatusOutput<>(io.lettuce.core.codec.StringCodec.UTF8),
                    new io.lettuce.core.protocol.CommandArgs<>(io.lettuce.core.codec.StringCodec.UTF8).add("POPULATE").add(keys)
                            .add("bench:other"));
            System.out.printf("populated %,d keys in %.1f s%n", keys, (System.nanoTime() - t0) / 1e9);
            String id = "pb" + UUID.randomUUID().toString().substring(0, 6);
            String yaml = """
                    source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                    kafka: { bootstrap-servers: "%s", topic-prefix: %s, partitions: 3 }
                    apply: { group-prefix: %s-region- }
                    regions:
                      bench: { redis: "redis://127.0.0.1:%d" }
                    namespaces:
                      product: { table: public.products, keys: ["bench:product:{id}"], patterns: ["bench:search:*"] }
                    """.formatted(stack.kafkaBootstrapServers(), id, id, port);
            LetheConfig config = ConfigLoader.parse("pattern-bench.yml", yaml, System::getenv);
            TopicSetup.ensure(config, io.lethe.config.KafkaRole.CLI, TopicSetup.pipelineTopics(config), Duration.ofSeconds(30));
            String topic = config.topics().invalidations("bench");
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
            p.put(ProducerConfig.LINGER_MS_CONFIG, 1);
            ConcurrentLinkedQueue<long[]> keyLatencies = new ConcurrentLinkedQueue<>(); // {commit micros, applied micros}
            AtomicLong patternApplied = new AtomicLong();
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
                    RegionConsumerService region = new RegionConsumerService(config, "bench", new SimpleMeterRegistry(),
                            Clock.systemUTC())) {
                region.addListener(events -> {
                    long now = micros();
                    for (InvalidationEvent e : events) {
                        if (e.scope() == Scope.PATTERN) {
                            patternApplied.set(now);
                        } else {
                            keyLatencies.add(new long[] {e.commitTs(), now});
                        }
                    }
                });
                region.start();
                long version = 1000;
                // warm-up: the consumer joins its group and applies a few keys
                for (int i = 0; i < 200; i++) {
                    send(producer, topic, key("bench:product:warm" + i, ++version));
                }
                producer.flush();
                long warmDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (keyLatencies.size() < 200) {
                    if (System.nanoTime() > warmDeadline) {
                        throw new IllegalStateException("the region did not apply the warm-up in 120 s");
                    }
                    Thread.sleep(50);
                }
                System.out.println(
                        "run | sweep s (pattern commit -> applied) | key invalidations during the sweep | key latency p50 / p99 / max ms");
                for (int run = 1; run <= runs; run++) {
                    fillMatching(c.async(), matching);
                    keyLatencies.clear();
                    patternApplied.set(0);
                    long sentAt = micros();
                    send(producer, topic, pattern("bench:search:*", ++version, sentAt));
                    producer.flush();
                    long intervalNanos = 1_000_000_000L / rate;
                    long next = System.nanoTime();
                    long n = 0;
                    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
                    // offer key invalidations until the pattern is applied, then one second more
                    long stopAt = Long.MAX_VALUE;
                    while (System.nanoTime() < stopAt) {
                        if (patternApplied.get() != 0 && stopAt == Long.MAX_VALUE) {
                            stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                        }
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException("the pattern was not applied within 30 minutes");
                        }
                        send(producer, topic, key("bench:product:" + (n++ % 100_000), ++version));
                        next += intervalNanos;
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                    }
                    producer.flush();
                    long sweepEnd = patternApplied.get();
                    // wait until every key sent is applied
                    long drainDeadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
                    while (keyLatencies.size() < n && System.nanoTime() < drainDeadline) {
                        Thread.sleep(20);
                    }
                    List<Long> during = new ArrayList<>();
                    for (long[] l : keyLatencies) {
                        if (l[0] >= sentAt && l[0] <= sweepEnd) {
                            during.add(l[1] - l[0]);
                        }
                    }
                    Collections.sort(during);
                    long left = c.sync().keys("bench:search:*").size();
                    System.out.printf("%d | %.2f | %d (%d matches left) | %s / %s / %s%n", run, (sweepEnd - sentAt) / 1e6, during.size(),
                            left,
                            ms(during, 0.5), ms(during, 0.99), ms(during, 1.0));
                }
            }
        } finally {
            client.shutdown();
            redis.destroy();
            if (!redis.waitFor(30, TimeUnit.SECONDS)) {
                redis.destroyForcibly();
            }
        }
    }

    private static StatefulRedisConnection<String, String> connect(RedisClient client) throws InterruptedException {
        for (int attempt = 0;; attempt++) {
            try {
                StatefulRedisConnection<String, String> c = client.connect();
                c.setTimeout(Duration.ofMinutes(5));
                return c;
            } catch (RuntimeException e) {
                if (attempt > 50) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private static void fillMatching(RedisAsyncCommands<String, String> redis, int matching) throws Exception {
        List<RedisFuture<Long>> acks = new ArrayList<>();
        for (int i = 0; i < matching; i++) {
            acks.add(redis.hset("bench:search:" + i, Map.of("v", "0", "d", "results")));
            if (acks.size() >= 1000) {
                for (RedisFuture<Long> a : acks) {
                    a.get(60, TimeUnit.SECONDS);
                }
                acks.clear();
            }
        }
        for (RedisFuture<Long> a : acks) {
            a.get(60, TimeUnit.SECONDS);
        }
    }

    private static String ms(List<Long> micros, double q) {
        if (micros.isEmpty()) {
            return "-";
        }
        int i = (int) Math.min(micros.size() - 1, Math.ceil(q * micros.size()) - 1);
        return String.format("%.1f", micros.get(Math.max(0, i)) / 1000.0);
    }

    private static long micros() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private static void send(KafkaProducer<String, byte[]> producer, String topic, InvalidationEvent e) {
        producer.send(new ProducerRecord<>(topic, e.target(), EventJson.write(e)));
    }

    private static InvalidationEvent key(String key, long version) {
        long now = micros();
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, UUID.randomUUID().toString(), "product", Scope.ROW, key, null,
                Action.DELETE, null, Long.toString(version), version, 1L, now, now, now, null, Op.UPDATE, null, null);
    }

    private static InvalidationEvent pattern(String glob, long version, long now) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, UUID.randomUUID().toString(), "product", Scope.PATTERN, null, glob,
                Action.DELETE, null, Long.toString(version), version, 1L, now, now, now, null, Op.UPDATE, null, null);
    }
}
