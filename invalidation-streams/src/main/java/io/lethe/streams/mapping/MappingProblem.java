package io.lethe.streams.mapping;

import io.lethe.schemas.DlqReason;

/**
 * Something about a change that could not be turned into an invalidation: it goes to the DLQ
 * with this reason, while every invalidation that could be built is still emitted.
 *
 * @param reason  the DLQ reason code
 * @param message what was wrong, naming namespace, template or column
 */
public record MappingProblem(DlqReason reason, String message) {
}
