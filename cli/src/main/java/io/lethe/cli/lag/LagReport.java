package io.lethe.cli.lag;

import io.lethe.config.LetheConfig;
import io.lethe.config.kafka.KafkaClients;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.Headers;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.serde.EventJson;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

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
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** lethe.invalidation.latency.recent{quantile="0.99"}: the region consumers' p99 over the last minute. */
    private static final Pattern P99 = Pattern.compile(
            "^lethe_invalidation_latency_recent_seconds\\{[^}]*quantile=\"0\\.99\"[^}]*region=\"([^\"]+)\"[^}]*}\\s+(\\S+)$|"
                    + "^lethe_invalidation_latency_recent_seconds\\{[^}]*region=\"([^\"]+)\"[^}]*quantile=\"0\\.99\"[^}]*}\\s+(\\S+)$");

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
    private final Map<String, Double> captureAges = new java.util.LinkedHashMap<>();

    /** Each capture shard's watermark age (seconds) as the last {@link #compute} read it; "" names a single capture. */
    public Map<String, Double> captureAges() {
        return java.util.Collections.unmodifiableMap(captureAges);
    }

    public LagReport(LetheConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    public List<Row> compute(List<String> metricsUrls) throws Exception {
        Map<String, Double> p99 = scrape(metricsUrls);
        Map<String, Long> dlq = dlqByStage();
        List<Row> rows = new ArrayList<>();
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "lethe-lag"));
                KafkaConsumer<byte[], byte[]> reader = reader()) {
            // per capture shard: the newest heartbeat it published on any partition; capture's age is the oldest shard's
            // (a shard that published none, or stopped, holds it: its tables are that far behind)
            Map<String, Map<Integer, Long>> published = newestWatermarks(reader, config.topics().changes(), null);
            captureAges.clear();
            published.forEach((shard, byPartition) -> captureAges.put(shard, age(clock.millis() * 1000,
                    byPartition.values().stream().mapToLong(Long::longValue).filter(ts -> ts > 0).max()))); // none published: NaN
            double capture = captureAges.values().stream().anyMatch(a -> Double.isNaN(a))
                    ? Double.NaN
                    : captureAges.values().stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
            for (String region : config.regions().keySet()) {
                Map<String, Map<Integer, Long>> forwarded = newestWatermarks(reader, config.topics().invalidations(region),
                        io.lethe.region.apply.EventRules.watermarkKey(config));
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
        io.lethe.config.KafkaRole role = io.lethe.config.KafkaRole.region(region);
        if (!config.kafka().ownCluster(role)) {
            return lagOn(region, primaryAdmin, primaryReader, capture, streams, p99, dlq);
        }
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), role, "lethe-lag"));
                KafkaConsumer<byte[], byte[]> reader = reader(role)) {
            return lagOn(region, admin, reader, capture, streams, p99, dlq);
        }
    }

    /** The region's lag on the cluster {@code admin} and {@code reader} talk to. */
    private Row lagOn(String region, Admin admin, KafkaConsumer<byte[], byte[]> reader, double capture, double streams,
            Map<String, Double> p99, Map<String, Long> dlq) throws Exception {
        String topic = config.topics().invalidations(region);
        List<TopicPartition> partitions = reader.partitionsFor(topic, TIMEOUT).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        Map<TopicPartition, OffsetAndMetadata> committed = admin
                .listConsumerGroupOffsets(RegionConsumerService.groupId(config, region)).partitionsToOffsetAndMetadata()
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, Long> end = reader.endOffsets(partitions, TIMEOUT);
        Map<TopicPartition, Long> begin = reader.beginningOffsets(partitions, TIMEOUT);
        long lag = 0;
        long oldestCommit = Long.MAX_VALUE;
        byte[] signingKey = io.lethe.region.apply.EventRules.watermarkKey(config);
        io.lethe.schemas.RecordSignature signature = signingKey == null ? null : new io.lethe.schemas.RecordSignature(signingKey);
        for (TopicPartition tp : partitions) {
            OffsetAndMetadata c = committed.get(tp);
            long from = c == null ? begin.get(tp) : c.offset();
            long behind = end.get(tp) - from;
            lag += Math.max(0, behind);
            if (behind > 0) {
                oldestCommit = Math.min(oldestCommit, commitTsAt(reader, tp, from, signature));
            }
        }
        // only the region's topic now: a group moved by a configuration change keeps the old topic's offsets for a while
        double endToEnd = age(clock.millis() * 1000, partitions.stream().map(committed::get).filter(java.util.Objects::nonNull)
                .map(c -> io.lethe.region.apply.AppliedWatermarks.fromCommitMetadata(c.metadata()))
                .filter(java.util.OptionalLong::isPresent).mapToLong(java.util.OptionalLong::getAsLong).min());
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

    private static double age(long nowMicros, java.util.OptionalLong commitMicros) {
        return commitMicros.isEmpty() ? Double.NaN : Math.max(0, nowMicros - commitMicros.getAsLong()) / 1e6;
    }

    /**
     * Per partition of {@code topic}, the commit time of the newest watermark among its last
     * {@link #TAIL} records (0 when there is none: the partition is busy or nothing reached it yet).
     * With {@code key} (streams.watermark-key, for the region topics streams signs), only watermarks
     * whose signature verifies count: a forged one must not make the lag look smaller.
     */
    private Map<String, Map<Integer, Long>> newestWatermarks(KafkaConsumer<byte[], byte[]> reader, String topic, byte[] key) {
        List<TopicPartition> partitions = reader.partitionsFor(topic, TIMEOUT).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        // per capture shard ("" for a single capture), per partition: one shard's heartbeats say nothing of another's tables
        Map<String, Map<Integer, Long>> newest = new java.util.TreeMap<>();
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
                if (r.key() != null && io.lethe.schemas.Watermark.isWatermark(new String(r.key(), StandardCharsets.UTF_8))) {
                    io.lethe.schemas.Watermark.read(r.headers()).filter(w -> key == null || w.verifies(r.headers(), key))
                            .filter(w -> newest.containsKey(w.shard() == null ? "" : w.shard()))
                            .ifPresent(w -> newest.get(w.shard() == null ? "" : w.shard()).merge(r.partition(), w.commitTs(), Math::max));
                }
            }
        }
        return newest;
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
        return config.source().sharded()
                ? config.source().shards().values().stream().map(io.lethe.config.ShardConfig::slot).toList()
                : List.of(config.source().slot());
    }

    public Upstream upstream() {
        long retained = -1;
        Map<String, Long> bySlot = new java.util.LinkedHashMap<>();
        try (java.sql.Connection c = io.lethe.capture.source.SourceConnection.open(config);
                java.sql.PreparedStatement ps = c
                        .prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                                + "FROM pg_replication_slots WHERE slot_name = ?")) {
            for (String slot : slots()) {
                ps.setString(1, slot);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    long held = rs.next() ? rs.getLong(1) : -1;
                    bySlot.put(slot, held);
                    retained = Math.max(retained, held);
                }
            }
        } catch (java.sql.SQLException e) {
            // the primary is unreachable from here: shown as "-"
        }
        long unread = -1;
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "lethe-lag"));
                KafkaConsumer<byte[], byte[]> reader = reader()) {
            String topic = config.topics().changes();
            List<TopicPartition> partitions = reader.partitionsFor(topic, TIMEOUT).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(config.streams().applicationId())
                    .partitionsToOffsetAndMetadata().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, Long> end = reader.endOffsets(partitions, TIMEOUT);
            Map<TopicPartition, Long> begin = reader.beginningOffsets(partitions, TIMEOUT);
            unread = 0;
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata c = committed.get(tp);
                unread += Math.max(0, end.get(tp) - (c == null ? begin.get(tp) : c.offset()));
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
        return new Upstream(retained, unread, bySlot);
    }

    /**
     * Total DLQ records by stage (capture, streams, region:name): the primary's DLQ, and that of each
     * cluster of its own a region reads (a mirrored region dead-letters there; read with its settings).
     */
    public Map<String, Long> dlqByStage() {
        Map<String, Long> counts = new LinkedHashMap<>();
        try (KafkaConsumer<byte[], byte[]> reader = reader()) {
            countDeadLetters(reader, counts);
        }
        java.util.Set<String> clusters = new java.util.HashSet<>();
        for (String region : config.regions().keySet()) {
            io.lethe.config.KafkaRole role = io.lethe.config.KafkaRole.region(region);
            if (config.kafka().ownCluster(role) && clusters.add(config.kafka().bootstrapServers(role))) {
                try (KafkaConsumer<byte[], byte[]> reader = reader(role)) {
                    countDeadLetters(reader, counts);
                }
            }
        }
        return counts;
    }

    private void countDeadLetters(KafkaConsumer<byte[], byte[]> reader, Map<String, Long> counts) {
        String topic = config.topics().dlq();
        List<TopicPartition> partitions = reader.partitionsFor(topic, TIMEOUT).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        if (partitions.isEmpty()) {
            return;
        }
        reader.assign(partitions);
        reader.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = reader.endOffsets(partitions, TIMEOUT);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (end.entrySet().stream().anyMatch(e -> reader.position(e.getKey()) < e.getValue()) && System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
                Header stage = r.headers().lastHeader(Headers.DLQ_STAGE);
                counts.merge(stage == null ? "unknown" : new String(stage.value(), StandardCharsets.UTF_8), 1L, Long::sum);
            }
        }
    }

    /**
     * The commit time of the record at {@code offset}; its Kafka timestamp when it is malformed or,
     * with {@code streams.watermark-key} ({@code signature} not null), its signature does not verify:
     * a forged record's commitTs must not make the lag look smaller or larger than it is.
     */
    private static long commitTsAt(KafkaConsumer<byte[], byte[]> reader, TopicPartition tp, long offset,
            io.lethe.schemas.RecordSignature signature) {
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

    private KafkaConsumer<byte[], byte[]> reader() {
        return reader(io.lethe.config.KafkaRole.CLI);
    }

    /** A reader on {@code role}'s cluster with its settings (the CLI's on the primary; a mirrored region's on its own). */
    private KafkaConsumer<byte[], byte[]> reader(io.lethe.config.KafkaRole role) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), role, "lethe-lag-reader");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** p99 commit→applied in ms per region, from Prometheus text (the timer's 1-minute window). */
    static Map<String, Double> scrape(List<String> urls) {
        Map<String, Double> p99 = new HashMap<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        for (String url : urls) {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.ofString());
                p99.putAll(parseP99(response.body()));
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                // that process is down or elsewhere: its regions show "-"
            }
        }
        return p99;
    }

    static Map<String, Double> parseP99(String prometheusText) {
        Map<String, Double> p99 = new HashMap<>();
        for (String line : prometheusText.split("\n")) {
            Matcher m = P99.matcher(line.trim());
            if (m.matches()) {
                String region = m.group(1) != null ? m.group(1) : m.group(3);
                String value = m.group(2) != null ? m.group(2) : m.group(4);
                p99.put(region, Double.parseDouble(value) * 1000);
            }
        }
        return p99;
    }
}
