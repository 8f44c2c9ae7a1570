package io.lethe.schemas.serde;

import org.apache.kafka.common.serialization.Serializer;

/** Writes any Lethe event as JSON. */
public class JsonSerializer<T> implements Serializer<T> {
    @Override
    public byte[] serialize(String topic, T data) {
        return data == null ? null : EventJson.write(data);
    }
}
