package io.lethe.capture.engine;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.Converter;
import org.apache.kafka.connect.storage.KafkaOffsetBackingStore;
import org.apache.kafka.connect.util.SharedTopicAdmin;

/**
 * Kafka's offset store, owning its admin client: Debezium's built-in wiring of
 * {@link KafkaOffsetBackingStore} creates a shared admin client that nobody closes, so each
 * capture restart in a process leaked one (and its threads kept dialing a stopped broker).
 * Offsets are stored in the same format (schemaless JSON keys and values).
 */
public final class LetheOffsetStore extends KafkaOffsetBackingStore {
    private final AtomicReference<SharedTopicAdmin> admin;

    public LetheOffsetStore() {
        this(new AtomicReference<>());
    }

    private LetheOffsetStore(AtomicReference<SharedTopicAdmin> admin) {
        super(() -> admin.get().topicAdmin(), () -> "lethe-capture-offsets", converter());
        this.admin = admin;
    }

    private static Converter converter() {
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of("schemas.enable", "false"), true);
        return converter;
    }

    @Override
    public void configure(WorkerConfig config) {
        Map<String, Object> props = new HashMap<>();
        for (Map.Entry<String, Object> e : config.originals().entrySet()) {
            if (AdminClientConfig.configNames().contains(e.getKey())) {
                props.put(e.getKey(), e.getValue());
            }
        }
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "lethe-capture-offsets-admin");
        admin.set(new SharedTopicAdmin(props));
        super.configure(config);
    }

    @Override
    public void stop() {
        try {
            super.stop();
        } finally {
            SharedTopicAdmin a = admin.getAndSet(null);
            if (a != null) {
                a.close(Duration.ofSeconds(5));
            }
        }
    }
}
