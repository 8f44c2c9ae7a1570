package io.lethe.schemas.serde;

import io.lethe.schemas.ChangeEvent;
import org.apache.kafka.common.serialization.Serdes;

/** Kafka serde for {@link ChangeEvent}; usable by class name in client configuration. */
public class ChangeEventSerde extends Serdes.WrapperSerde<ChangeEvent> {
    public ChangeEventSerde() {
        super(new JsonSerializer<>(), new ChangeEventDeserializer());
    }
}
