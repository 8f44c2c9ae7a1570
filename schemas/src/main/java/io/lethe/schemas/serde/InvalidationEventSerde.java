package io.lethe.schemas.serde;

import io.lethe.schemas.InvalidationEvent;
import org.apache.kafka.common.serialization.Serdes;

/** Kafka serde for {@link InvalidationEvent}; usable by class name in client configuration. */
public class InvalidationEventSerde extends Serdes.WrapperSerde<InvalidationEvent> {
    public InvalidationEventSerde() {
        super(new JsonSerializer<>(), new InvalidationEventDeserializer());
    }
}
