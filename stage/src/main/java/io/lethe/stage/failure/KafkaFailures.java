package io.lethe.stage.failure;

import io.lethe.schemas.DlqReason;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The one place where a Kafka client error is classified. Kafka's own hierarchy decides:
 * {@link RetriableException} and its subclasses (timeouts, leader changes, a broker going away)
 * are retried; authentication and authorization refusals are configuration errors; a record the
 * broker or the client can never accept is poison. An unknown error is retried: retrying a
 * poison record stalls a stage visibly, while dropping a good one would lose an invalidation.
 */
public final class KafkaFailures {
    private KafkaFailures() {
    }

    public static Failure classify(Throwable error) {
        Throwable e = unwrap(error);
        // Kafka Streams and other wrappers carry the client's error as a cause: the typed one decides
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof AuthenticationException || t instanceof AuthorizationException || t instanceof RecordTooLargeException
                    || t instanceof RecordBatchTooLargeException) {
                e = t;
                break;
            }
        }
        if (e instanceof AuthenticationException) {
            return Failure.fatal("authentication", "Kafka refused the credentials: check kafka.properties (sasl.*, ssl.*) in "
                    + "the config and the secrets in the environment", e);
        }
        if (e instanceof AuthorizationException) {
            return Failure.fatal("authorization", "Kafka denied an operation (" + e.getMessage() + "): grant the principal "
                    + "the ACLs listed in docs/runbook.md, \"Kafka refuses Lethe\"", e);
        }
        if (e instanceof RecordTooLargeException || e instanceof RecordBatchTooLargeException) {
            return Failure.poison(DlqReason.RECORD_TOO_LARGE, e);
        }
        if (e instanceof InvalidRecordException) {
            return Failure.poison("invalid-record", DlqReason.MALFORMED, e);
        }
        if (e instanceof SerializationException) {
            return Failure.poison("serialization", DlqReason.MALFORMED, e);
        }
        if (e instanceof RetriableException) {
            return Failure.retriable("kafka-" + simpleName(e), e);
        }
        return Failure.retriable("kafka", e);
    }

    /** The error inside future and wrapper exceptions. */
    public static Throwable unwrap(Throwable error) {
        Throwable e = error;
        while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    private static String simpleName(Throwable e) {
        String name = e.getClass().getSimpleName().replace("Exception", "");
        return name.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }
}
