package io.lethe.streams.mapping;

import io.lethe.schemas.DlqReason;

/**
 * Something about a change that could not be turned into the exact invalidation: the change goes
 * to the DLQ with this reason for audit, while every invalidation that could be built is still
 * emitted, and, when {@code namespace} is set, a wider one that is certainly enough took the place
 * of what could not be built (see "How Lethe fails closed" in docs/design.md).
 *
 * @param reason    the DLQ reason code
 * @param message   what was wrong, naming namespace, template or column
 * @param namespace the namespace whose invalidation was widened, or null when nothing was widened
 *                  (the change concerns no namespace, or could not be read at all)
 */
public record MappingProblem(DlqReason reason, String message, String namespace) {

    /** A problem that widened nothing: the change itself is unusable or concerns no namespace. */
    public static MappingProblem unmapped(DlqReason reason, String message) {
        return new MappingProblem(reason, message, null);
    }

    /** True when a wider invalidation was emitted in place of the exact one. */
    public boolean widened() {
        return namespace != null;
    }
}
