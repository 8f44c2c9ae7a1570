package io.lethe.region.apply;

import io.lethe.schemas.InvalidationEvent;
import java.util.List;

/**
 * Told about every batch after Redis acknowledged it (the replica gate and the staleness prober
 * hang off here). Called on the consumer thread: return quickly.
 */
public interface AppliedListener {
    void applied(List<InvalidationEvent> events);
}
