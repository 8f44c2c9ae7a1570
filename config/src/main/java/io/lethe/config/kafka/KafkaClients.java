package io.lethe.config.kafka;

import io.lethe.config.KafkaConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;

/** Client properties every Lethe stage starts from: bootstrap servers plus the pass-through settings. */
public final class KafkaClients {
    private KafkaClients() {
    }

    /** A new mutable map with {@code bootstrap.servers}, the pass-through properties and a client id. */
    public static Map<String, Object> common(KafkaConfig kafka, String clientId) {
        Map<String, Object> props = new HashMap<>(kafka.properties());
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        return props;
    }
}
