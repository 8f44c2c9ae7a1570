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
 * Per region: records not yet applied (from the group's committed offsets), how far behind the
 * newest commit the oldest unapplied one is, p99 commit→applied over the last minute (scraped
 * from the region consumers' /metrics), and dead-lettered records.
 */
public final class LagReport {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** lethe.invalidation.latency.recent{quantile="0.99"}: the region consumers' p99 over the last minute. */
    private static final Pattern P99 = Pattern.compile(
            "^lethe_invalidation_latency_recent_seconds\\{[^}]*quantile=\"0\\.99\"[^}]*region=\"([^\"]+)\"[^}]*}\\s+(\\S+)$|"
                    + "^lethe_invalidation_latency_recent_seconds\\{[^}]*region=\"([^\"]+)\"[^}]*quantile=\"0\\.99\"[^}]*}\\s+(\\S+)$");

    /** One region's row. p99Millis and secondsBehind are NaN when unknown. */
    public record Row(String region, long lagRecords, double secondsBehind, double p99Millis, long dlq) {
    }

    private final LetheConfig config;
    private final Clock clock;

    public LagReport(LetheConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    public List<Row> compute(List<String> metricsUrls) throws Exception {
        Map<String, Double> p99 = scrape(metricsUrls);
        Map<String, Long> dlq = dlqByStage();
        List<Row> rows = new ArrayList<>();
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), "lethe-lag"));
             KafkaConsumer<byte[], byte[]> reader = reader()) {
            for (String region : config.regions().keySet()) {
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
                for (TopicPartition tp : partitions) {
                    OffsetAndMetadata c = committed.get(tp);
                    long from = c == null ? begin.get(tp) : c.offset();
                    long behind = end.get(tp) - from;
                    lag += Math.max(0, behind);
                    if (behind > 0) {
                        oldestCommit = Math.min(oldestCommit, commitTsAt(reader, tp, from));
                    }
                }
                double seconds = lag == 0 ? 0 : oldestCommit == Long.MAX_VALUE ? Double.NaN
                        : Math.max(0, clock.millis() * 1000 - oldestCommit) / 1e6;
                rows.add(new Row(region, lag, seconds, p99.getOrDefault(region, Double.NaN), dlq.getOrDefault("region:" + region, 0L)));
            }
        }
        return rows;
    }

    /** Total DLQ records by stage (capture, streams, region:name). */
    public Map<String, Long> dlqByStage() {
        Map<String, Long> counts = new LinkedHashMap<>();
        String topic = config.topics().dlq();
        try (KafkaConsumer<byte[], byte[]> reader = reader()) {
            List<TopicPartition> partitions = reader.partitionsFor(topic, TIMEOUT).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            if (partitions.isEmpty()) {
                return counts;
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
        return counts;
    }

    private static long commitTsAt(KafkaConsumer<byte[], byte[]> reader, TopicPartition tp, long offset) {
        reader.assign(List.of(tp));
        reader.seek(tp, offset);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : reader.poll(Duration.ofMillis(200))) {
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
        Map<String, Object> props = KafkaClients.common(config.kafka(), "lethe-lag-reader");
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
