package io.lethe.schemas.serde;

import io.lethe.schemas.ChangeEvent;

/** Kafka deserializer for {@link ChangeEvent}; usable by class name in client configuration. */
public class ChangeEventDeserializer extends JsonDeserializer<ChangeEvent> {
    public ChangeEventDeserializer() {
        super(ChangeEvent.class);
    }
}
