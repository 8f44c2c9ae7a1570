package io.lethe.schemas.serde;

import io.lethe.schemas.InvalidationEvent;

/** Kafka deserializer for {@link InvalidationEvent}; usable by class name in client configuration. */
public class InvalidationEventDeserializer extends JsonDeserializer<InvalidationEvent> {
    public InvalidationEventDeserializer() {
        super(InvalidationEvent.class);
    }
}
