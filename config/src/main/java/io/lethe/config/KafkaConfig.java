package io.lethe.config;

import io.lethe.schemas.Topics;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The Kafka cluster every stage uses.
 *
 * @param bootstrapServers  {@code host:port[,host:port]}
 * @param properties        passed to every client (security.protocol, sasl.*, ssl.*), under its role's identity
 * @param identities        each role's own principal and properties ({@code kafka.roles.*}, {@code regions.<r>.kafka});
 *                          a role without one uses {@code properties} alone
 * @param topicPrefix       prefix of every Lethe topic
 * @param partitions        partitions of topics Lethe creates; null for the broker's default
 * @param replicationFactor replication of topics Lethe creates; null for the broker's default
 * @param retention         retention of the changes and invalidation topics Lethe creates
 * @param outageBudget      the longest stage outage to survive without a wholesale invalidation
 * @param dlqRetention      retention of the DLQ Lethe creates (it holds row data: shorter)
 * @param publicPayloads    the default of {@link NamespaceConfig#publicPayloads()}
 * @param createTopics      whether the stages create their missing topics; false (a locked-down cluster, Strimzi) makes each
 *                          stage check at start that its topics exist with the settings Lethe needs ({@code TopicSpec})
 * @param minInsyncReplicas {@code min.insync.replicas} of topics Lethe creates and requires of existing ones; null for the broker's
 */
public record KafkaConfig(String bootstrapServers, Map<String, String> properties, String topicPrefix,
        Integer partitions, Short replicationFactor, Duration retention, Duration outageBudget,
        Duration dlqRetention, boolean publicPayloads, Map<KafkaRole, KafkaIdentity> identities, boolean createTopics,
        Integer minInsyncReplicas) {

    public KafkaConfig {
        properties = Map.copyOf(properties);
        identities = identities == null ? Map.of() : Map.copyOf(identities);
    }

    /** One identity for every role. */
    public KafkaConfig(String bootstrapServers, Map<String, String> properties, String topicPrefix, Integer partitions,
            Short replicationFactor, Duration retention, Duration outageBudget, Duration dlqRetention, boolean publicPayloads) {
        this(bootstrapServers, properties, topicPrefix, partitions, replicationFactor, retention, outageBudget, dlqRetention,
                publicPayloads, Map.of(), Defaults.CREATE_TOPICS, null);
    }

    /** The same cluster with {@code identities} per role. */
    public KafkaConfig withIdentities(Map<KafkaRole, KafkaIdentity> identities) {
        return new KafkaConfig(bootstrapServers, properties, topicPrefix, partitions, replicationFactor, retention, outageBudget,
                dlqRetention, publicPayloads, identities, createTopics, minInsyncReplicas);
    }

    /**
     * The cluster {@code role}'s clients talk to: the role's own (a region reading a mirrored
     * cluster, {@code regions.<r>.kafka.bootstrap-servers}) or {@link #bootstrapServers()}.
     */
    public String bootstrapServers(KafkaRole role) {
        KafkaIdentity identity = identities.get(role);
        return identity != null && identity.ownCluster() ? identity.bootstrapServers() : bootstrapServers;
    }

    /** True when {@code role}'s clients talk to a cluster of their own, not the primary. */
    public boolean ownCluster(KafkaRole role) {
        KafkaIdentity identity = identities.get(role);
        return identity != null && identity.ownCluster();
    }

    /**
     * The client properties of {@code role}: {@link #properties()} with the role's identity over them
     * (the identity's alone when the role has a cluster of its own).
     */
    public Map<String, String> properties(KafkaRole role) {
        KafkaIdentity identity = identities.get(role);
        return identity == null ? properties : identity.over(properties);
    }

    /** The same cluster with {@code kafka.create-topics} and {@code kafka.min-insync-replicas} set. */
    public KafkaConfig withTopicCreation(boolean createTopics, Integer minInsyncReplicas) {
        return new KafkaConfig(bootstrapServers, properties, topicPrefix, partitions, replicationFactor, retention, outageBudget,
                dlqRetention, publicPayloads, identities, createTopics, minInsyncReplicas);
    }

    /** With the defaults of the DLQ's retention and public payloads. */
    public KafkaConfig(String bootstrapServers, Map<String, String> properties, String topicPrefix,
            Integer partitions, Short replicationFactor, Duration retention, Duration outageBudget) {
        this(bootstrapServers, properties, topicPrefix, partitions, replicationFactor, retention, outageBudget,
                Defaults.DLQ_RETENTION, Defaults.PUBLIC_PAYLOADS);
    }

    /** The retention Lethe gives {@code topic} when it creates it: {@link #dlqRetention} for the DLQ, else {@link #retention}. */
    public Duration retentionOf(String topic) {
        return topic.equals(topics().dlq()) ? dlqRetention : retention;
    }

    public Topics topics() {
        return new Topics(topicPrefix);
    }

    @Override
    public String toString() {
        String props = properties.entrySet().stream()
                .map(e -> e.getKey() + "=" + (isSensitive(e.getKey()) ? "******" : e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
        return "KafkaConfig[bootstrapServers=" + bootstrapServers + ", properties=" + props + ", topicPrefix="
                + topicPrefix + ", partitions=" + partitions + ", replicationFactor=" + replicationFactor + ", retention=" + retention
                + ", outageBudget=" + outageBudget + ", dlqRetention=" + dlqRetention + ", publicPayloads=" + publicPayloads
                + ", identities=" + identities + ", createTopics=" + createTopics + ", minInsyncReplicas=" + minInsyncReplicas + "]";
    }

    /** Client properties whose values are credentials (sasl.jaas.config, ssl.*.password, ...). */
    public static boolean isSensitive(String property) {
        String p = property.toLowerCase(Locale.ROOT);
        return p.contains("password") || p.contains("jaas") || p.contains("secret") || p.contains("token")
                || p.endsWith(".key") || p.contains("credentials");
    }
}
