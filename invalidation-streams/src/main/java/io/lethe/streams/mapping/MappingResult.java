package io.lethe.streams.mapping;

import io.lethe.schemas.InvalidationEvent;
import java.util.List;

/**
 * What one change became.
 *
 * @param invalidations every invalidation that could be built, in a stable order
 * @param problems      what could not be mapped (empty when all went well)
 */
public record MappingResult(List<InvalidationEvent> invalidations, List<MappingProblem> problems) {
    public MappingResult {
        invalidations = List.copyOf(invalidations);
        problems = List.copyOf(problems);
    }
}
