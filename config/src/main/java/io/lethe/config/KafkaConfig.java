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
 */
public record KafkaConfig(String bootstrapServers, Map<String, String> properties, String topicPrefix,
                          Integer partitions, Short replicationFactor, Duration retention, Duration outageBudget,
                          Map<KafkaRole, KafkaIdentity> identities) {

    public KafkaConfig {
        properties = Map.copyOf(properties);
        identities = identities == null ? Map.of() : Map.copyOf(identities);
    }

    /** One identity for every role. */
    public KafkaConfig(String bootstrapServers, Map<String, String> properties, String topicPrefix, Integer partitions,
                       Short replicationFactor, Duration retention, Duration outageBudget) {
        this(bootstrapServers, properties, topicPrefix, partitions, replicationFactor, retention, outageBudget, Map.of());
    }

    /** The same cluster with {@code identities} per role. */
    public KafkaConfig withIdentities(Map<KafkaRole, KafkaIdentity> identities) {
        return new KafkaConfig(bootstrapServers, properties, topicPrefix, partitions, replicationFactor, retention, outageBudget, identities);
    }

    /** The client properties of {@code role}: {@link #properties()} with the role's identity over them. */
    public Map<String, String> properties(KafkaRole role) {
        KafkaIdentity identity = identities.get(role);
        return identity == null ? properties : identity.over(properties);
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
                + ", outageBudget=" + outageBudget + ", identities=" + identities + "]";
    }

    /** Client properties whose values are credentials (sasl.jaas.config, ssl.*.password, ...). */
    public static boolean isSensitive(String property) {
        String p = property.toLowerCase(Locale.ROOT);
        return p.contains("password") || p.contains("jaas") || p.contains("secret") || p.contains("token")
                || p.endsWith(".key") || p.contains("credentials");
    }
}
