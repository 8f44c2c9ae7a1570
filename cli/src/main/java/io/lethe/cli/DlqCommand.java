package io.lethe.cli;

import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.region.apply.EventRules;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lethe dlq}: look at and replay the dead-letter topic. */
@Command(name = "dlq", mixinStandardHelpOptions = true, description = "Inspect or replay lethe.dlq.", subcommands = {
        DlqCommand.Replay.class})
public final class DlqCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Re-publishes dead-lettered records to the topic they were read from, unchanged, once the
     * cause is fixed; only to a topic this configuration owns, and only what its consumer would
     * accept ({@link #untrusted}). Progress is kept in a consumer group, so each record is replayed once; a
     * record the pipeline still cannot handle comes back to the DLQ with its reason.
     */
    @Command(name = "replay", mixinStandardHelpOptions = true, description = "Re-publish DLQ records to their source topic (after fixing the cause).")
    static final class Replay implements Callable<Integer> {
        @Mixin
        ConfigFile config;

        @Option(names = "--reason", description = "only records with this lethe.dlq.reason")
        String reason;

        @Option(names = "--group", defaultValue = "lethe-dlq-replay", description = "consumer group keeping replay progress (default ${DEFAULT-VALUE})")
        String group;

        @Option(names = "--dry-run", description = "list what would be replayed")
        boolean dryRun;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            LetheConfig cfg = config.loadOrReport();
            if (cfg == null) {
                return ConfigFile.INVALID;
            }
            Map<String, Object> consumerProps = KafkaClients.common(cfg.kafka(), io.lethe.config.KafkaRole.CLI, "lethe-dlq-replay");
            consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            Map<String, Object> producerProps = KafkaClients.common(cfg.kafka(), io.lethe.config.KafkaRole.CLI, "lethe-dlq-replay");
            producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
            int replayed = 0;
            int skipped = 0;
            EventRules rules = new EventRules(cfg.namespaces(), cfg.file(), cfg.apply().maxLsnLead());
            // the original's signature verifies with the current key or, during a rotation, the previous one
            io.lethe.schemas.SigningKeys signature = EventRules.signingKeys(cfg);
            Map<String, Object> originalProps = KafkaClients.common(cfg.kafka(), io.lethe.config.KafkaRole.CLI,
                    "lethe-dlq-replay-original");
            originalProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
                    KafkaConsumer<byte[], byte[]> originals = new KafkaConsumer<>(originalProps, new ByteArrayDeserializer(),
                            new ByteArrayDeserializer());
                    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps, new ByteArraySerializer(),
                            new ByteArraySerializer())) {
                String dlq = cfg.topics().dlq();
                List<TopicPartition> partitions = consumer.partitionsFor(dlq, Duration.ofSeconds(30)).stream()
                        .map(p -> new TopicPartition(dlq, p.partition())).toList();
                consumer.assign(partitions);
                Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
                Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
                while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
                    List<Future<RecordMetadata>> acks = new ArrayList<>();
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                        done.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                        String source = header(r, Headers.DLQ_SOURCE_TOPIC);
                        if (source == null || source.isEmpty() || reason != null && !reason.equals(header(r, Headers.DLQ_REASON))) {
                            skipped++;
                            continue;
                        }
                        String unreplayable = header(r, Headers.DLQ_TRUNCATED) != null
                                ? "cut to its first part"
                                : "capture".equals(header(r, Headers.DLQ_STAGE))
                                        ? "read from the write-ahead log, not a topic"
                                        : untrusted(cfg, rules, source, r);
                        // the original's schema, signature (and its key id) and holds headers go back with it: a region with
                        // streams.watermark-key applies it only when the signature Lethe gave the original verifies (replay
                        // never signs), an upsert only when the original's holds stamp is the region's configuration's
                        org.apache.kafka.common.header.Headers carried = new org.apache.kafka.common.header.internals.RecordHeaders();
                        if (unreplayable == null) {
                            unreplayable = notTheOriginal(originals, source, r, carried);
                        }
                        // a purge request is unsigned (its publisher holds no key): streams judges it again when it routes it
                        if (unreplayable == null && signature != null && !source.equals(cfg.topics().invalidationRequests())
                                && !signature.verifies(carried, r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8),
                                        r.value())) {
                            unreplayable = "refused (" + DlqReason.UNTRUSTED_RECORD.code() + "): its original's " + Headers.SIGNATURE
                                    + (carried.lastHeader(Headers.SIGNATURE) == null ? " is missing" : " does not verify")
                                    + " (" + signature.refusal(carried) + "): not written by Lethe";
                        }
                        if (unreplayable != null) {
                            spec.commandLine().getOut().printf("skip %s@%d (%s): %s%n", r.topic(), r.offset(),
                                    header(r, Headers.DLQ_REASON),
                                    unreplayable);
                            skipped++;
                            continue;
                        }
                        spec.commandLine().getOut().printf("%s %s@%d (%s) -> %s%n", dryRun ? "would replay" : "replay",
                                r.topic(), r.offset(), header(r, Headers.DLQ_REASON), source);
                        if (!dryRun) {
                            ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(source, null, r.key(), r.value(), carried);
                            out.headers().add(Headers.REPLAYED_FROM,
                                    (r.topic() + "-" + r.partition() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
                            if (source.equals(cfg.topics().invalidations())) {
                                // the public topic's records carry CloudEvents' headers, whoever writes them (checked by untrusted)
                                io.lethe.schemas.CloudEvents.headers(EventJson.readInvalidation(r.value()), cfg.topics())
                                        .forEach(out.headers()::add);
                            }
                            acks.add(producer.send(out));
                        }
                        replayed++;
                    }
                    for (Future<RecordMetadata> ack : acks) {
                        ack.get();
                    }
                    if (!dryRun && !done.isEmpty()) {
                        consumer.commitSync(done);
                    }
                }
            }
            spec.commandLine().getOut().printf("%s %d record(s), skipped %d%n", dryRun ? "would replay" : "replayed", replayed, skipped);
            spec.commandLine().getOut().flush();
            return 0;
        }

        /**
         * Why a dead letter is not the record it says it came from, or null: every role writes the
         * DLQ, so its headers prove nothing, and replay publishes as the CLI's principal. Only a
         * record still in its source topic, at the partition and offset the headers name, with the
         * same key and value, is replayed: a dead letter a compromised stage made up is not. The
         * original's schema, signature and holds stamp headers are added to {@code carried}, to go back with it.
         */
        static String notTheOriginal(KafkaConsumer<byte[], byte[]> originals, String source, ConsumerRecord<byte[], byte[]> r,
                org.apache.kafka.common.header.Headers carried) {
            String partition = header(r, Headers.DLQ_SOURCE_PARTITION);
            String offset = header(r, Headers.DLQ_SOURCE_OFFSET);
            if (partition == null || offset == null) {
                return "no source partition and offset: where it came from cannot be checked";
            }
            TopicPartition tp;
            long at;
            try {
                tp = new TopicPartition(source, Integer.parseInt(partition));
                at = Long.parseLong(offset);
            } catch (NumberFormatException e) {
                return "source partition or offset is not a number";
            }
            originals.assign(List.of(tp));
            originals.seek(tp, at);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> o : originals.poll(Duration.ofMillis(200))) {
                    if (o.offset() != at) {
                        return "its original is no longer at " + tp + "@" + at + " (retention): where it came from cannot be checked";
                    }
                    if (!java.util.Arrays.equals(o.key(), r.key()) || !java.util.Arrays.equals(o.value(), r.value())) {
                        return "differs from the record at " + tp + "@" + at + " it names as its source: not replayed";
                    }
                    // and its holds stamp: an upsert goes back judged by what the streams that wrote it rendered
                    for (String name : List.of(Headers.SCHEMA, Headers.SIGNATURE, Headers.KEY_ID, Headers.HOLDS)) {
                        Header h = o.headers().lastHeader(name);
                        if (h != null) {
                            carried.add(name, h.value());
                        }
                    }
                    return null;
                }
            }
            return "its original at " + tp + "@" + at + " could not be read: where it came from cannot be checked";
        }

        /**
         * Why a dead letter must not be replayed, or null: trust no topic (issue 34). The DLQ's headers
         * are written by whoever wrote the record, so the source topic must be one this configuration
         * owns (the changes topic, the request topic, the public and the region invalidation topics; never
         * the DLQ itself nor another team's topic), and what goes back must pass the checks its consumer
         * makes: an invalidation the region rules ({@link EventRules}, without the LSN ceiling, which the
         * region applies when it reads it), a purge request streams' ({@code ManualRequests}: replayed
         * unsigned, as its publisher wrote it, and judged again by streams), a change that parses. Watermarks are never replayed (a later one
         * has long replaced them, and a region would refuse one without its signature).
         */
        static String untrusted(LetheConfig cfg, EventRules rules, String source, ConsumerRecord<byte[], byte[]> r) {
            java.util.Set<String> invalidations = new java.util.LinkedHashSet<>();
            invalidations.add(cfg.topics().invalidations());
            cfg.regions().keySet().forEach(region -> invalidations.add(cfg.topics().invalidations(region)));
            String requests = cfg.topics().invalidationRequests();
            if (!source.equals(cfg.topics().changes()) && !source.equals(requests) && !invalidations.contains(source)) {
                return source + " is not a topic of this configuration (" + cfg.topics().changes() + ", " + requests + ", "
                        + invalidations + "): not replayed";
            }
            String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
            if (Watermark.isWatermark(key)) {
                return "a watermark: not replayed";
            }
            try {
                if (source.equals(cfg.topics().changes())) {
                    EventJson.readChange(r.value());
                    return null;
                }
                InvalidationEvent event = EventJson.readInvalidation(r.value());
                if (source.equals(requests)) {
                    // a purge streams refused (its file lacked the namespace, the key's template): replayed once this file routes it
                    return io.lethe.config.invalidate.ManualRequests.refusal(cfg, event)
                            .map(refusal -> "refused (" + refusal.reason().code() + "): " + refusal.message()).orElse(null);
                }
                return rules.refusal(event, -1).map(refusal -> "refused (" + refusal.reason().code() + "): " + refusal.message())
                        .orElse(null);
            } catch (SchemaViolationException e) {
                return "refused (" + DlqReason.MALFORMED.code() + "): " + e.getMessage();
            }
        }

        private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
            Header h = r.headers().lastHeader(name);
            return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
        }
    }
}
