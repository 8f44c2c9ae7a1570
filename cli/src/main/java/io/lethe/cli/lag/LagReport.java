package io.lethe.cli.lag;

import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.apply.AppliedWatermarks;
import io.lethe.region.apply.EventRules;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import io.lethe.stage.kafka.GroupOffsets;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Per region: the end-to-end lag (now minus the newest heartbeat commit the region applied with
 * everything before it, as its consumers write it into their committed offsets' metadata), the watermark age of
 * each stage before it (capture: the newest heartbeat on the changes topic; streams: the oldest
 * newest heartbeat on the region topic's partitions), which stage holds the backlog, records not
 * yet applied (from the group's committed offsets), how far behind the newest commit the oldest
 * unapplied one is, p99 commit→applied over the last minute (scraped from the region consumers'
 * /metrics), and dead-lettered records. The ages are the figures of {@code /metrics}
 * ({@code lethe.capture.watermark.age}, {@code lethe.streams.watermark.age},
 * {@code lethe.region.end.to.end.lag}), read from where the stages leave them.
 */
public final class LagReport {
    private static final Duration TIMEOUT = LagReaders.TIMEOUT;

    /** Beyond this end-to-end lag (the alerts' threshold), the row names the stage that holds the backlog. */
    private static final double BACKLOG_SECONDS = 5.0;
    /** Records read back from the end of each partition to find its newest watermark. */
    private static final int TAIL = 50;

    /**
     * One region's row; the seconds and p99Millis are NaN when unknown.
     *
     * @param endToEndSeconds now minus the newest heartbeat the region applied everything before
     * @param captureSeconds  now minus the newest heartbeat capture published
     * @param streamsSeconds  now minus the oldest newest heartbeat streams forwarded to the region's topic
     * @param secondsBehind   how far behind the newest commit the oldest unapplied record of the region topic is
     */
    public record Row(String region, double endToEndSeconds, double captureSeconds, double streamsSeconds, long lagRecords,
            double secondsBehind, double p99Millis, long dlq) {
        /** The stage whose own delay is the largest part of the end-to-end lag, or "-" when caught up. */
        public String backlogAt() {
            if (Double.isNaN(endToEndSeconds) || endToEndSeconds < BACKLOG_SECONDS) {
                return "-";
            }
            double capture = Double.isNaN(captureSeconds) ? 0 : captureSeconds;
            double streams = Double.isNaN(streamsSeconds) ? capture : streamsSeconds;
            double[] own = {capture, streams - capture, endToEndSeconds - streams};
            String[] stages = {"capture", "streams", "region"};
            int max = 0;
            for (int i = 1; i < own.length; i++) {
                if (own[i] > own[max]) {
                    max = i;
                }
            }
            return stages[max];
        }
    }

    private final LetheConfig config;
    private final Clock clock;
    /** After {@link #compute}: each capture shard's watermark age in seconds ("" for a single capture), NaN when it published none. */
    private final Map<String, Double> captureAges = new LinkedHashMap<>();
    /** After {@link #compute}: the key id of each partition's newest watermark, whether or not it verifies. */
    private final SigningReport signing;

    /** Each capture shard's watermark age (seconds) as the last {@link #compute} read it; "" names a single capture. */
    public Map<String, Double> captureAges() {
        return Collections.unmodifiableMap(captureAges);
    }

    public LagReport(LetheConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.signing = new SigningReport(config);
    }

    /** The key ids each stage signs its watermarks with, as the last {@link #compute} read them. */
    public SigningReport signing() {
        return signing;
    }

    public List<Row> compute(List<String> metricsUrls) throws Exception {
        List<String> scraped = P99Scrape.fetch(metricsUrls);
        Map<String, Double> p99 = new HashMap<>();
        scraped.forEach(body -> p99.putAll(P99Scrape.parseP99(body)));
        signing.clear();
        scraped.forEach(signing::scraped);
        Map<String, Long> dlq = dlqByStage();
        List<Row> rows = new ArrayList<>();
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), KafkaRole.CLI, "lethe-lag"));
                KafkaConsumer<byte[], byte[]> reader = LagReaders.reader(config, KafkaRole.CLI)) {
            // per capture shard: the newest heartbeat it published on any partition; capture's age is the oldest shard's
            // (a shard that published none, or stopped, holds it: its tables are that far behind)
            Map<String, Map<Integer, Long>> published = newestWatermarks(reader, config.topics().changes());
            captureAges.clear();
            published.forEach((shard, byPartition) -> captureAges.put(shard, age(clock.millis() * 1000,
                    byPartition.values().stream().mapToLong(Long::longValue).filter(ts -> ts > 0).max()))); // none published: NaN
            double capture = captureAges.values().stream().anyMatch(a -> Double.isNaN(a))
                    ? Double.NaN
                    : captureAges.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
            for (String region : config.regions().keySet()) {
                Map<String, Map<Integer, Long>> forwarded = newestWatermarks(reader, config.topics().invalidations(region));
                List<Long> channels = forwarded.values().stream().flatMap(m -> m.values().stream()).toList();
                double streams = channels.isEmpty() || channels.contains(0L)
                        ? Double.NaN
                        : age(clock.millis() * 1000, channels.stream().mapToLong(Long::longValue).min());
                rows.add(regionRow(region, admin, reader, capture, streams, p99, dlq));
            }
        }
        return rows;
    }

    /**
     * The region's own figures: its group's offsets and its topic, on the cluster it reads (a
     * mirrored region's offsets are local to its own cluster and never translated: they are read
     * there, with the region's settings); {@code capture} and {@code streams} were read on the primary.
     */
    private Row regionRow(String region, Admin primaryAdmin, KafkaConsumer<byte[], byte[]> primaryReader, double capture, double streams,
            Map<String, Double> p99, Map<String, Long> dlq) throws Exception {
        KafkaRole role = KafkaRole.region(region);
        if (!config.kafka().ownCluster(role)) {
            return lagOn(region, primaryAdmin, primaryReader, capture, streams, p99, dlq);
        }
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), role, "lethe-lag"));
                KafkaConsumer<byte[], byte[]> reader = LagReaders.reader(config, role)) {
            return lagOn(region, admin, reader, capture, streams, p99, dlq);
        }
    }

    /** The region's lag on the cluster {@code admin} and {@code reader} talk to. */
    private Row lagOn(String region, Admin admin, KafkaConsumer<byte[], byte[]> reader, double capture, double streams,
            Map<String, Double> p99, Map<String, Long> dlq) throws Exception {
        String topic = config.topics().invalidations(region);
        List<TopicPartition> partitions = LagReaders.partitions(reader, topic);
        Map<TopicPartition, OffsetAndMetadata> committed = GroupOffsets.committed(admin, RegionConsumerService.groupId(config, region),
                TIMEOUT);
        Map<TopicPartition, Long> end = reader.endOffsets(partitions, TIMEOUT);
        Map<TopicPartition, Long> begin = reader.beginningOffsets(partitions, TIMEOUT);
        long lag = GroupOffsets.unread(partitions, committed, begin, end);
        long oldestCommit = Long.MAX_VALUE;
        SigningKeys signature = EventRules.signingKeys(config);
        for (TopicPartition tp : partitions) {
            long from = GroupOffsets.next(tp, committed, begin);
            if (end.get(tp) > from) {
                oldestCommit = Math.min(oldestCommit, commitTsAt(reader, tp, from, signature));
            }
        }
        // only the region's topic now: a group moved by a configuration change keeps the old topic's offsets for a while
        double endToEnd = age(clock.millis() * 1000, partitions.stream().map(committed::get).filter(Objects::nonNull)
                .map(c -> AppliedWatermarks.fromCommitMetadata(c.metadata()))
                .filter(OptionalLong::isPresent).mapToLong(OptionalLong::getAsLong).min());
        double seconds = lag == 0
                ? 0
                : oldestCommit == Long.MAX_VALUE
                        ? Double.NaN
                        : Math.max(0, clock.millis() * 1000 - oldestCommit) / 1e6;
        // a partition without a watermark in its commit (one added to scale out that the group has not applied
        // yet) is not in the figure above: an unapplied record committed at T keeps the region at least now - T behind
        if (!Double.isNaN(endToEnd) && !Double.isNaN(seconds)) {
            endToEnd = Math.max(endToEnd, seconds);
        }
        return new Row(region, endToEnd, capture, streams, lag, seconds, p99.getOrDefault(region, Double.NaN),
                dlq.getOrDefault("region:" + region, 0L));
    }

    private static double age(long nowMicros, OptionalLong commitMicros) {
        return commitMicros.isEmpty() ? Double.NaN : Math.max(0, nowMicros - commitMicros.getAsLong()) / 1e6;
    }

    /**
     * Per partition of {@code topic}, the commit time of the newest watermark among its last
     * {@link #TAIL} records (0 when there is none: the partition is busy or nothing reached it yet).
     * With streams.watermark-key (and previous-watermark-key during a rotation), only watermarks
     * whose signature verifies with one of them count, on every topic: capture signs its watermarks
     * on the changes topic as streams signs those of the region topics, and a forged one on either
     * must not make an age look smaller (the keys are not a parameter, so no caller can skip them).
     */
    Map<String, Map<Integer, Long>> newestWatermarks(Consumer<byte[], byte[]> reader, String topic) {
        SigningKeys keys = EventRules.signingKeys(config);
        List<TopicPartition> partitions = LagReaders.partitions(reader, topic);
        // per capture shard ("" for a single capture), per partition: one shard's heartbeats say nothing of another's tables
        Map<String, Map<Integer, Long>> newest = new TreeMap<>();
        if (partitions.isEmpty()) {
            return newest;
        }
        Map<TopicPartition, Long> end = reader.endOffsets(partitions, TIMEOUT);
        Map<TopicPartition, Long> begin = reader.beginningOffsets(partitions, TIMEOUT);
        reader.assign(partitions);
        for (TopicPartition tp : partitions) {
            for (String shard : config.source().shardOrder()) {
                newest.computeIfAbsent(shard, s -> new HashMap<>()).put(tp.partition(), 0L);
            }
            reader.seek(tp, Math.max(begin.get(tp), end.get(tp) - TAIL));
        }
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (partitions.stream().anyMatch(tp -> reader.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
                if (r.key() != null && Watermark.isWatermark(new String(r.key(), StandardCharsets.UTF_8))) {
                    Optional<Watermark> read = Watermark.read(r.headers());
                    boolean verified = read.isPresent() && (keys == null || read.get().verifies(r.headers(), keys));
                    // which key signed it is reported whether it verifies or not: a stage on a key this file refuses shows there
                    read.ifPresent(w -> signing.saw(topic, r.partition(), r.offset(), w.shard(), r.headers(), verified));
                    read.filter(w -> verified)
                            .filter(w -> newest.containsKey(w.shard() == null ? "" : w.shard()))
                            .ifPresent(w -> newest.get(w.shard() == null ? "" : w.shard()).merge(r.partition(), w.commitTs(), Math::max));
                }
            }
        }
        return newest;
    }

    /** Only the key ids of the newest watermarks on the changes topic and every region's topic (on the primary): for doctor. */
    public SigningReport readSigning() {
        signing.clear();
        try (KafkaConsumer<byte[], byte[]> reader = LagReaders.reader(config, KafkaRole.CLI)) {
            newestWatermarks(reader, config.topics().changes());
            config.regions().keySet().stream().map(config.topics()::invalidations).distinct()
                    .forEach(topic -> newestWatermarks(reader, topic));
        }
        return signing;
    }

    /**
     * The stages before the regions: WAL the slot holds back (bytes; -1 when the primary cannot be
     * asked), changes streams has not read yet (records; -1 when Kafka cannot say).
     */
    public record Upstream(long slotRetainedBytes, long streamsLagRecords, Map<String, Long> retainedBySlot) {
        public Upstream(long slotRetainedBytes, long streamsLagRecords) {
            this(slotRetainedBytes, streamsLagRecords, Map.of());
        }
    }

    /** The slots capture reads: each shard's, or the single one. */
    public List<String> slots() {
        return UpstreamLag.slots(config);
    }

    /** The slots' retained WAL and streams' unread changes; -1 where the primary or Kafka cannot be asked. */
    public Upstream upstream() {
        return UpstreamLag.of(config);
    }

    /**
     * Total DLQ records by stage (capture, streams, region:name): the primary's DLQ, and that of each
     * cluster of its own a region reads (a mirrored region dead-letters there; read with its settings).
     */
    public Map<String, Long> dlqByStage() {
        return DeadLetterCounts.byStage(config);
    }

    /**
     * The commit time of the record at {@code offset}; its Kafka timestamp when it is malformed or,
     * with {@code streams.watermark-key} ({@code signature} not null), its signature verifies with
     * neither that nor {@code streams.previous-watermark-key}:
     * a forged record's commitTs must not make the lag look smaller or larger than it is.
     */
    private static long commitTsAt(KafkaConsumer<byte[], byte[]> reader, TopicPartition tp, long offset,
            SigningKeys signature) {
        reader.assign(List.of(tp));
        reader.seek(tp, offset);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
                if (signature != null && !signature.verifies(r.headers(),
                        r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8), r.value())) {
                    return r.timestamp() * 1000;
                }
                try {
                    return EventJson.readInvalidation(r.value()).commitTs();
                } catch (SchemaViolationException e) {
                    return r.timestamp() * 1000; // a malformed record: its Kafka timestamp is the best we have
                }
            }
        }
        return Long.MAX_VALUE;
    }
}
