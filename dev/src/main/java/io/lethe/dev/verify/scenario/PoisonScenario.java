package io.lethe.dev.verify.scenario;

import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.schemas.Headers;
import io.lethe.schemas.redis.RedisLayout;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Poison among normal invalidations: a foreign string where a fence lives (WRONGTYPE) in the
 * first region, the last region's Redis at {@code maxmemory} under {@code noeviction}, and a
 * change larger than Kafka takes. Each used to stop its stage for good (retried forever); now the
 * normal keys are applied everywhere, each poison record is widened and dead-lettered with its
 * reason within 10 s, and every region's lag returns to 0.
 */
final class PoisonScenario implements Scenario {
    private static final Duration DEAD_LETTER_WITHIN = Duration.ofSeconds(10);
    private static final int ITEMS = 20;
    /** Rows after the updated ones, cached and left alone: the judge checks they are still served. */
    private static final int UNCHANGED = 4;

    @Override
    public String name() {
        return "poison";
    }

    @Override
    public String summary() {
        return "a WRONGTYPE fence key, a Redis full under noeviction, and an oversize change among normal invalidations";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        String p = run.p();
        Items.create(run, ITEMS + UNCHANGED);
        run.sql("CREATE TABLE docs (id int PRIMARY KEY, body text)", "INSERT INTO docs VALUES (1, 'old'), (2, 'old')");
        LetheConfig config = run.config(Items.namespace(run, "") + """
                doc:
                  table: public.docs
                  keys: ["%sdoc:{id}"]
                  mode: upsert
                  payload-columns: [body]
                """.formatted(p));
        run.start(config);
        Function<String, Optional<String>> items = Items.truth(run);
        run.truth(key -> key.startsWith(p + "doc:") ? doc(run, key.substring((p + "doc:").length())) : items.apply(key));
        int[] ids = java.util.stream.IntStream.rangeClosed(1, ITEMS + UNCHANGED).toArray();
        Items.fillCurrent(run, "1", ids);
        run.fillEverywhere(p + "doc:1", "1", "{\"body\":\"old\"}");
        run.fillEverywhere(p + "doc:2", "1", "{\"body\":\"old\"}");
        String first = run.regions().get(0);
        String last = run.regions().get(run.regions().size() - 1);
        String foreign = p + "item:1";
        run.redis(first).set(RedisLayout.fenceKey(foreign), "written by another program");
        run.done("filled items 1-%d and docs 1-2 in every region; SET %s to a string in %s", ITEMS + UNCHANGED,
                RedisLayout.fenceKey(foreign), first);
        var full = run.redis(last);
        String maxmemory = full.configGet("maxmemory").get("maxmemory");
        String policy = full.configGet("maxmemory-policy").get("maxmemory-policy");
        full.configSet("maxmemory-policy", "noeviction");
        full.configSet("maxmemory", "1");
        run.done("%s: CONFIG SET maxmemory-policy noeviction, maxmemory 1 (every write that grows memory is refused)", last);
        try {
            long t0 = System.nanoTime();
            run.sql("UPDATE items SET val = val || '.1' WHERE id <= " + ITEMS);
            run.sql("UPDATE docs SET body = (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 65536) i) WHERE id = 2");
            run.sql("UPDATE docs SET body = 'new' WHERE id = 1");
            run.done("UPDATE items 1-%d; UPDATE docs 2 to 2 MB (over Kafka's 1 MiB); UPDATE docs 1 (an upsert)", ITEMS);
            Set<String> expected = Set.of("redis-wrongtype", "redis-oom", "record-too-large");
            Set<String> reasons = deadLetters(config, expected, DEAD_LETTER_WITHIN);
            run.expect(reasons.containsAll(expected), "dead letters " + expected + " within " + DEAD_LETTER_WITHIN.toSeconds()
                    + " s; the DLQ has " + reasons);
            run.done("the DLQ has %s after %d ms", reasons, (System.nanoTime() - t0) / 1_000_000);
            run.quiesce();
            for (String region : run.regions()) {
                run.expect(run.committedAllItHeld(config, region, Duration.ofSeconds(30)), region + "'s lag returns to 0");
            }
            run.done("every region's lag returned to 0 (committed = end offsets)");
        } finally {
            full.configSet("maxmemory", maxmemory);
            full.configSet("maxmemory-policy", policy);
        }
    }

    private static Optional<String> doc(ScenarioRun run, String id) {
        try {
            String body = run.query("SELECT body FROM docs WHERE id = ?", Integer.parseInt(id));
            return Optional.ofNullable(body == null ? null : "{\"body\":\"" + body + "\"}");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The reasons of the run's dead letters, read until {@code expected} are all there or {@code within} passed. */
    private static Set<String> deadLetters(LetheConfig config, Set<String> expected, Duration within) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "scenario-poison-dlq");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "scenario-poison-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Set<String> reasons = new LinkedHashSet<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(config.topics().dlq()));
            long deadline = System.nanoTime() + within.toNanos();
            while (!reasons.containsAll(expected) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    var h = r.headers().lastHeader(Headers.DLQ_REASON);
                    if (h != null) {
                        reasons.add(new String(h.value(), StandardCharsets.UTF_8));
                    }
                }
            }
        }
        return reasons;
    }
}
