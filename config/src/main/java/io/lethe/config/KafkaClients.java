package io.lethe.config;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;

/** Client properties every Lethe stage starts from: bootstrap servers plus the pass-through settings. */
public final class KafkaClients {
    /**
     * How old a client's topic metadata may get before it is read again ({@code metadata.max.age.ms},
     * Kafka's default is 5 minutes): partitions added to a topic (the scale-out path) reach
     * capture's producer, Streams, the region consumers and every watermark and lag reader within
     * this, instead of after 5 minutes. A {@code kafka.properties} entry overrides it.
     */
    public static final Duration METADATA_MAX_AGE = Duration.ofSeconds(10);

    private KafkaClients() {
    }

    /**
     * A new mutable map with {@code bootstrap.servers}, the pass-through properties under {@code role}'s
     * identity (its own principal when configured), a client id and {@link #METADATA_MAX_AGE} (unless the
     * properties set it).
     */
    public static Map<String, Object> common(KafkaConfig kafka, KafkaRole role, String clientId) {
        Map<String, Object> props = new HashMap<>(kafka.properties(role));
        props.putIfAbsent(CommonClientConfigs.METADATA_MAX_AGE_CONFIG, Long.toString(METADATA_MAX_AGE.toMillis()));
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(role));
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        return props;
    }

    /**
     * As {@link #common}, but always on the primary cluster ({@code kafka.bootstrap-servers}, where
     * capture and streams write): for a region reading a mirrored cluster of its own, what only the
     * primary knows, the partition counts streams routes by. With the role's identity when it is on
     * the primary, else with {@code kafka.properties} alone.
     */
    public static Map<String, Object> primary(KafkaConfig kafka, KafkaRole role, String clientId) {
        Map<String, Object> props = new HashMap<>(kafka.ownCluster(role) ? kafka.properties() : kafka.properties(role));
        props.putIfAbsent(CommonClientConfigs.METADATA_MAX_AGE_CONFIG, Long.toString(METADATA_MAX_AGE.toMillis()));
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        return props;
    }
}
