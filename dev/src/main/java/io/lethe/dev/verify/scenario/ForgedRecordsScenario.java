package io.lethe.dev.verify.scenario;

import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.schemas.Action;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Trust no topic (issue 34): a producer with write access to a region topic, but not Lethe's
 * streams application, writes forged records into it: an invalidation of another namespace's key,
 * one of a {@code lethe:} key (a fence), an upsert at a huge version, an upsert in a namespace not
 * configured for upserts, globs that match most of Redis ({@code *:*}, {@code [a-z0-9]*}), and a
 * watermark from the future at a huge LSN; and upserts every rule admits (a valid key of an upsert
 * namespace, a version the pipeline could send next) with an arbitrary payload and no signature, or
 * a wrong one. Each must be refused to the DLQ with its own reason ({@code untrusted-record} for the
 * in-range upserts: streams signs every record with {@code streams.watermark-key}); the cached
 * entries (the true value), the fence and the region's published watermark must be unchanged, and
 * later real changes still applied.
 */
final class ForgedRecordsScenario implements Scenario {
    private static final Duration DEAD_LETTER_WITHIN = Duration.ofSeconds(30);
    /** A version and LSN far beyond the source's WAL position (2^62). */
    private static final long HUGE = 1L << 62;

    @Override
    public String name() {
        return "forged-records";
    }

    @Override
    public String summary() {
        return "forged records on a region topic (foreign key, lethe: key, huge version, wide glob, forged watermark, unsigned in-range upsert) refused to the DLQ; an unsigned delete applied";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        String p = run.p();
        Items.create(run, 4);
        run.sql("CREATE TABLE docs (id int PRIMARY KEY, body text)", "INSERT INTO docs VALUES (1, 'old'), (2, 'old')");
        // streams signs the watermarks it forwards; the forger does not have the key
        run.streamsSetting("watermark-key: " + UUID.randomUUID());
        String namespaces = Items.namespace(run, "") + """
                doc:
                  table: public.docs
                  keys: ["%sdoc:{id}"]
                  mode: upsert
                  payload-columns: [body]
                """.formatted(p);
        LetheConfig config = run.config(namespaces);
        run.start(config);
        Function<String, Optional<String>> items = Items.truth(run);
        run.truth(key -> key.startsWith(p + "doc:") ? doc(run, key.substring((p + "doc:").length())) : items.apply(key));
        Items.fillCurrent(run, "1", 1, 2, 3, 4);
        run.sql("UPDATE docs SET body = 'real' WHERE id = 1");
        String region = run.regions().get(0);
        String doc = p + "doc:1";
        String item = p + "item:1";
        ScenarioRun.await("the upsert of " + doc + " in " + region, Duration.ofSeconds(60),
                () -> "{\"body\":\"real\"}".equals(run.redis(region).hget(doc, RedisLayout.ENTRY_DATA)));
        run.quiesce();
        Map<String, String> docBefore = run.redis(region).hgetall(doc);
        Map<String, String> itemBefore = run.redis(region).hgetall(item);
        Map<String, String> fenceBefore = run.redis(region).hgetall(RedisLayout.fenceKey(doc));
        run.done("UPDATE docs 1 upserted %s in %s (entry %s, fence %s); %s cached (%s)", doc, region, docBefore, fenceBefore, item,
                itemBefore);

        long now = System.currentTimeMillis() * 1000;
        String topic = config.topics().invalidations(region);
        Map<String, ProducerRecord<String, byte[]>> forged = new LinkedHashMap<>();
        forged.put("foreign-key", record(topic, event("item", Scope.ROW, doc, null, Action.DELETE, null, Long.toString(HUGE), HUGE, now)));
        forged.put("reserved-key", record(topic, event("doc", Scope.ROW, RedisLayout.fenceKey(doc), null, Action.DELETE, null,
                Long.toString(HUGE), HUGE, now)));
        forged.put("version-out-of-range", record(topic, event("doc", Scope.ROW, doc, null, Action.UPSERT, "{\"body\":\"forged\"}",
                Long.toString(HUGE), HUGE, now)));
        forged.put("upsert-not-configured", record(topic, event("item", Scope.ROW, item, null, Action.UPSERT, "\"forged\"",
                "2", 2, now)));
        forged.put("foreign-pattern", record(topic, event("item", Scope.PATTERN, null, "*:*", Action.DELETE, null, "2", 2, now)));
        ProducerRecord<String, byte[]> watermark = new ProducerRecord<>(topic, 0, Watermark.KEY, new byte[0]);
        new Watermark(now + 3_600_000_000L, HUGE, 0).writeTo(watermark.headers());
        forged.put("untrusted-watermark", watermark);
        ProducerRecord<String, byte[]> glob = record(topic,
                event("doc", Scope.PATTERN, null, "[a-z0-9]*", Action.DELETE, null, "2", 2, now));
        // in range: a valid key of an upsert namespace, at the primary's current LSN (a version the pipeline could send
        // next), with an arbitrary payload: every rule above passes it; only the signature streams adds can tell
        long lsn = Long.parseLong(run.query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint::text")) + 16;
        List<ProducerRecord<String, byte[]>> inRange = new ArrayList<>();
        inRange.add(
                record(topic, event("doc", Scope.ROW, doc, null, Action.UPSERT, "{\"body\":\"forged\"}", Long.toString(lsn), lsn, now)));
        ProducerRecord<String, byte[]> badlySigned = record(topic, event("doc", Scope.ROW, doc, null, Action.UPSERT,
                "{\"body\":\"forged\"}", Long.toString(lsn + 1), lsn + 1, now));
        badlySigned.headers().add(Headers.SIGNATURE, "0".repeat(64).getBytes(StandardCharsets.UTF_8));
        inRange.add(badlySigned);

        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "scenario-forger");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            for (ProducerRecord<String, byte[]> r : forged.values()) {
                producer.send(r).get();
            }
            producer.send(glob).get();
            for (ProducerRecord<String, byte[]> r : inRange) {
                producer.send(r).get();
            }
        }
        run.done("a producer with write access to %s sent: %s, a %s glob, and upserts of %s at LSN %d and %d (in range) with no "
                + "signature and a wrong one", topic, forged.keySet(), "[a-z0-9]*", doc, lsn, lsn + 1);

        Map<String, Integer> expected = new LinkedHashMap<>();
        forged.keySet().forEach(reason -> expected.put(reason, 1));
        expected.merge("foreign-pattern", 1, Integer::sum);
        expected.put("untrusted-record", inRange.size());
        Map<String, Integer> reasons = deadLetters(config, region, expected, DEAD_LETTER_WITHIN);
        boolean all = expected.entrySet().stream().allMatch(e -> reasons.getOrDefault(e.getKey(), 0) >= e.getValue());
        run.expect(all, "each forged record dead-lettered by " + region + " with its reason " + expected + " within "
                + DEAD_LETTER_WITHIN.toSeconds() + " s; the DLQ has " + reasons);
        run.done("the DLQ has, from %s: %s", region, reasons);

        run.expect(docBefore.equals(run.redis(region).hgetall(doc)), doc + " must be unchanged, was " + docBefore + ", is "
                + run.redis(region).hgetall(doc));

        // an unsigned delete within the rules (a purge a publisher of a release before 2026-12-08 wrote itself): applied, since a
        // delete can only cost a miss and refusing it would leave the entry it was sent to remove; counted
        String item2 = p + "item:2";
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(record(topic, event("item", Scope.ROW, item2, null, Action.DELETE, null, Long.toString(lsn), lsn, now))).get();
        }
        long gone = run.millisUntilGone(region, item2, Duration.ofSeconds(30));
        run.expect(gone >= 0, "an unsigned delete within the rules must be applied, but " + item2 + " is still cached");
        run.done("an unsigned delete of %s (in range) was %s", item2, gone >= 0 ? "applied in " + gone + " ms" : "not applied");

        // lethe dlq replay keeps verifying: it sends a record back only with its original's signature, and skips the
        // in-range forgeries (whose originals carry none, or a wrong one) instead of letting the CLI's principal vouch for them
        java.nio.file.Path file = java.nio.file.Files.createTempFile(run.id() + "-replay", ".yml");
        try {
            java.nio.file.Files.writeString(file, run.yaml(namespaces, ""));
            java.io.StringWriter out = new java.io.StringWriter();
            picocli.CommandLine replay = new picocli.CommandLine(new io.lethe.cli.DlqCommand());
            replay.setOut(new java.io.PrintWriter(out));
            int exit = replay.execute("replay", "--config", file.toString(), "--reason", "untrusted-record", "--group",
                    run.id() + "-replay");
            long refused = out.toString().lines().filter(l -> l.startsWith("skip") && l.contains("refused (untrusted-record)")).count();
            run.expect(exit == 0 && out.toString().contains("replayed 0 record") && refused >= inRange.size(),
                    "lethe dlq replay --reason untrusted-record must replay none and skip each forgery as untrusted-record, exit "
                            + exit + ": " + out);
            run.done("lethe dlq replay --reason untrusted-record replayed none, skipped %d as untrusted-record", refused);
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
        run.expect(docBefore.equals(run.redis(region).hgetall(doc)), doc + " must be unchanged after the replay, is "
                + run.redis(region).hgetall(doc));
        run.expect(itemBefore.equals(run.redis(region).hgetall(item)), item + " must be unchanged, was " + itemBefore + ", is "
                + run.redis(region).hgetall(item));
        run.expect(fenceBefore.equals(run.redis(region).hgetall(RedisLayout.fenceKey(doc))), "the fence of " + doc + " must be unchanged");
        Map<String, String> applied = run.redis(region).hgetall(AppliedLsn.key(config.apply().groupPrefix() + region));
        List<String> forgedFields = new ArrayList<>();
        applied.forEach((field, value) -> {
            try {
                if (!field.startsWith(AppliedLsn.HISTORY_PREFIX) && !field.equals(AppliedLsn.PARTITIONS)
                        && Long.parseLong(value) >= now + 60_000_000L
                        && (field.startsWith(AppliedLsn.COMMIT_TS_PREFIX) || Long.parseLong(value) >= HUGE)) {
                    forgedFields.add(field + "=" + value);
                }
            } catch (NumberFormatException e) {
                forgedFields.add(field + "=" + value);
            }
        });
        run.expect(forgedFields.isEmpty(), "the region's published watermark must not take the forged one, has " + forgedFields);
        run.done("after the forged records: %s %s, %s %s, the fence unchanged; the published watermark %s", doc,
                run.redis(region).hgetall(doc), item, run.redis(region).hgetall(item), applied);

        run.sql("UPDATE docs SET body = 'later' WHERE id = 1", "UPDATE items SET val = val || '.1' WHERE id = 1");
        ScenarioRun.await("the later upsert of " + doc + " in " + region, Duration.ofSeconds(60),
                () -> "{\"body\":\"later\"}".equals(run.redis(region).hget(doc, RedisLayout.ENTRY_DATA)));
        run.done("a later UPDATE of docs 1 is upserted as before (the forged huge version did not fence it out)");
        run.quiesce();
    }

    private static InvalidationEvent event(String namespace, Scope scope, String key, String pattern, Action action, String payload,
            String version, long lsn, long now) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "forged:" + UUID.randomUUID(), namespace, scope, key, pattern,
                action, payload, version, lsn, null, now, now, now, null, Op.UPDATE, null, null);
    }

    private static ProducerRecord<String, byte[]> record(String topic, InvalidationEvent e) {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, e.target(), EventJson.write(e));
        r.headers().add(Headers.SCHEMA, InvalidationEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
        return r;
    }

    private static Optional<String> doc(ScenarioRun run, String id) {
        try {
            String body = run.query("SELECT body FROM docs WHERE id = ?", Integer.parseInt(id));
            return Optional.ofNullable(body == null ? null : "{\"body\":\"" + body + "\"}");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How many dead letters of each reason {@code region} wrote, read until {@code expected} are there or {@code within} passed. */
    private static Map<String, Integer> deadLetters(LetheConfig config, String region, Map<String, Integer> expected, Duration within) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "scenario-forged-dlq");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "scenario-forged-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        Map<String, Integer> reasons = new LinkedHashMap<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(config.topics().dlq()));
            long deadline = System.nanoTime() + within.toNanos();
            while (!expected.entrySet().stream().allMatch(e -> reasons.getOrDefault(e.getKey(), 0) >= e.getValue())
                    && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    var reason = r.headers().lastHeader(Headers.DLQ_REASON);
                    var stage = r.headers().lastHeader(Headers.DLQ_STAGE);
                    if (reason != null && stage != null && ("region:" + region).equals(new String(stage.value(), StandardCharsets.UTF_8))) {
                        reasons.merge(new String(reason.value(), StandardCharsets.UTF_8), 1, Integer::sum);
                    }
                }
            }
        }
        return reasons;
    }
}
