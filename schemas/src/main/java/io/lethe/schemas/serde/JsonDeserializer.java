package io.lethe.schemas.serde;

import java.util.Objects;
import org.apache.kafka.common.serialization.Deserializer;

/** Reads one Lethe event type; malformed input throws {@link io.lethe.schemas.SchemaViolationException}. */
public class JsonDeserializer<T> implements Deserializer<T> {
    private final Class<T> type;

    public JsonDeserializer(Class<T> type) {
        this.type = Objects.requireNonNull(type, "type");
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return data == null ? null : EventJson.read(data, type);
    }
}
