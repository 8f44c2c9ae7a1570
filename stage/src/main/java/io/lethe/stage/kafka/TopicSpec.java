package io.lethe.stage.kafka;

import io.lethe.config.KafkaConfig;
import io.lethe.config.LetheConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One of Lethe's topics as Lethe creates it, and what it needs of one an administrator created: the
 * one source of {@link TopicSetup} (creation and the start-up check under {@code kafka.create-topics:
 * false}), {@code lethe doctor} and {@code lethe topics --print}.
 *
 * <ul>
 *   <li>partitions, replication and {@code min.insync.replicas}: as configured when creating (the
 *       broker's defaults when unset); an existing topic needs at least as many.</li>
 *   <li>{@code cleanup.policy}: {@code delete} for the pipeline topics (compaction would drop
 *       watermarks and older changes of a key a stage has not read yet), {@code compact} for
 *       capture's offsets (Kafka Connect's offset store refuses anything else).</li>
 *   <li>{@code retention.ms}: {@code kafka.retention} ({@code kafka.dlq-retention} for the DLQ) when
 *       creating; an existing changes or invalidation topic must keep records at least
 *       {@code kafka.outage-budget} (shorter, a stage down that long loses what it did not read).
 *       The DLQ's retention is audit, not a stage's input: {@code lethe doctor} warns about it.</li>
 * </ul>
 *
 * @param name              the topic
 * @param partitions        partitions to create; null for the broker's default
 * @param replicationFactor replication to create; null for the broker's default
 * @param configs           topic configs to create it with, sorted by name
 * @param minRetention      the shortest retention an existing topic may have; null when not checked
 */
public record TopicSpec(String name, Integer partitions, Short replicationFactor, SortedMap<String, String> configs,
        Duration minRetention) {
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String RETENTION_MS = "retention.ms";
    public static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";

    public TopicSpec {
        configs = Collections.unmodifiableSortedMap(new TreeMap<>(configs));
    }

    /** The spec of {@code topic}, one of the topics of {@code kafka}'s prefix. */
    public static TopicSpec of(KafkaConfig kafka, String topic) {
        Map<String, String> configs = new TreeMap<>();
        if (kafka.minInsyncReplicas() != null) {
            configs.put(MIN_INSYNC_REPLICAS, kafka.minInsyncReplicas().toString());
        }
        if (topic.equals(kafka.topics().captureOffsets())) {
            // Connect's KafkaOffsetBackingStore: one partition is what it creates (offset.storage.partitions), compacted
            configs.put(CLEANUP_POLICY, "compact");
            return new TopicSpec(topic, 1, kafka.replicationFactor(), new TreeMap<>(configs), null);
        }
        configs.put(CLEANUP_POLICY, "delete");
        // retention set explicitly: a stage down longer than it loses what it did not read (and then invalidates
        // wholesale), so it is a decision, not the broker's default
        configs.put(RETENTION_MS, Long.toString(kafka.retentionOf(topic).toMillis()));
        Duration minRetention = topic.equals(kafka.topics().dlq()) ? null : kafka.outageBudget();
        return new TopicSpec(topic, kafka.partitions(), kafka.replicationFactor(), new TreeMap<>(configs), minRetention);
    }

    /** Every topic of the configuration: changes, the public and the regions' invalidation topics, the DLQ, capture's offsets. */
    public static List<TopicSpec> all(LetheConfig config) {
        List<TopicSpec> out = new ArrayList<>();
        TopicSetup.pipelineTopics(config).forEach(t -> out.add(of(config.kafka(), t)));
        // Debezium's offsets; in source.mode debezium-topics (no Debezium of Lethe's own) the table watch's state
        out.add(of(config.kafka(), config.topics().captureOffsets()));
        return out;
    }

    /**
     * What is wrong with an existing topic of {@code partitions} partitions, {@code replication}
     * replicas and {@code actual} configs (the broker's effective values), each as one phrase;
     * empty when Lethe can use it.
     */
    public List<String> problems(int partitions, int replication, Map<String, String> actual) {
        List<String> out = new ArrayList<>();
        if (this.partitions != null && partitions < this.partitions) {
            out.add(partitions + " partition(s), expected at least " + this.partitions + " (kafka.partitions)");
        }
        if (replicationFactor != null && replication < replicationFactor) {
            out.add("replication factor " + replication + ", expected at least " + replicationFactor + " (kafka.replication-factor)");
        }
        String policy = actual.get(CLEANUP_POLICY);
        if (!configs.get(CLEANUP_POLICY).equals(policy == null ? "delete" : policy.replace(" ", ""))) {
            out.add(CLEANUP_POLICY + "=" + policy + ", expected " + configs.get(CLEANUP_POLICY));
        }
        String minInsync = configs.get(MIN_INSYNC_REPLICAS);
        if (minInsync != null) {
            String value = actual.get(MIN_INSYNC_REPLICAS);
            if (value == null || Integer.parseInt(value) < Integer.parseInt(minInsync)) {
                out.add(MIN_INSYNC_REPLICAS + "=" + value + ", expected at least " + minInsync + " (kafka.min-insync-replicas)");
            }
        }
        if (minRetention != null) {
            String value = actual.get(RETENTION_MS);
            long ms = value == null ? -1 : Long.parseLong(value);
            if (ms >= 0 && ms < minRetention.toMillis()) {
                out.add(RETENTION_MS + "=" + ms + ", expected at least " + minRetention.toMillis() + " or -1 (kafka.outage-budget "
                        + minRetention + ")");
            }
        }
        return out;
    }

    /** What Lethe would create, as one phrase: {@code partitions 3, replication 3, cleanup.policy=delete, retention.ms=...}. */
    public String describe() {
        List<String> parts = new ArrayList<>();
        parts.add("partitions " + (partitions == null ? "(broker default)" : partitions));
        parts.add("replication " + (replicationFactor == null ? "(broker default)" : replicationFactor));
        configs.forEach((k, v) -> parts.add(k + "=" + v));
        return String.join(", ", parts);
    }
}
