package io.lethe.stage.failure;

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
 */
public record Failure(FailureClass kind, String reason, String fix, Throwable cause) {
    public Failure {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reason, "reason");
        fix = fix == null ? "" : fix;
    }

    public static Failure retriable(String reason, Throwable cause) {
        return new Failure(FailureClass.RETRIABLE, reason, "", cause);
    }

    public static Failure poison(String reason, Throwable cause) {
        return new Failure(FailureClass.POISON, reason, "", cause);
    }

    public static Failure fatal(String reason, String fix, Throwable cause) {
        return new Failure(FailureClass.FATAL_CONFIG, reason, fix, cause);
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
