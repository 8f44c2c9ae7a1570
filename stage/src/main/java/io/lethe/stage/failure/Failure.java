package io.lethe.stage.failure;

import io.lethe.schemas.DlqReason;
import java.util.Objects;

/**
 * A classified error.
 *
 * @param kind   what to do about it
 * @param reason a short machine-readable code for metrics and DLQ headers, e.g. {@code timeout},
 *               {@code record-too-large}, {@code redis-wrongtype}, {@code authorization}
 * @param fix    for {@link FailureClass#FATAL_CONFIG}, the one-line fix an operator should apply;
 *               otherwise empty
 * @param cause  the error itself
 * @param dlqReason for {@link FailureClass#POISON}, the typed reason its record is dead-lettered
 *               with (never compared as text); otherwise null
 */
public record Failure(FailureClass kind, String reason, String fix, Throwable cause, DlqReason dlqReason) {
    public Failure {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        fix = fix == null ? "" : fix;
        if (kind == FailureClass.POISON) {
            Objects.requireNonNull(dlqReason, "a poison failure names its dead-letter reason");
        }
    }

    public static Failure retriable(String reason, Throwable cause) {
        return new Failure(FailureClass.RETRIABLE, reason, "", cause, null);
    }

    /** A record that can never be applied: dead-lettered with {@code dlqReason}, whose tag is also the metric's reason. */
    public static Failure poison(DlqReason dlqReason, Throwable cause) {
        return new Failure(FailureClass.POISON, dlqReason.code(), "", cause, dlqReason);
    }

    /** A poison failure whose metric reason is finer than the dead-letter reason it is sent with. */
    public static Failure poison(String reason, DlqReason dlqReason, Throwable cause) {
        return new Failure(FailureClass.POISON, reason, "", cause, dlqReason);
    }

    public static Failure fatal(String reason, String fix, Throwable cause) {
        return new Failure(FailureClass.FATAL_CONFIG, reason, fix, cause, null);
    }

    public boolean isRetriable() {
        return kind == FailureClass.RETRIABLE;
    }

    public boolean isPoison() {
        return kind == FailureClass.POISON;
    }

    public boolean isFatal() {
        return kind == FailureClass.FATAL_CONFIG;
    }

    /** The cause's message, never null. */
    public String message() {
        return cause == null ? reason : String.valueOf(cause.getMessage());
    }
}
