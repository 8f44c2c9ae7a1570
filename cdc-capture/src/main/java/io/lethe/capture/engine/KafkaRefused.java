package io.lethe.capture.engine;

import io.lethe.stage.failure.Failure;

/**
 * Kafka did not acknowledge an attempt of {@link ChangePublisher}'s, for a reason retrying can fix
 * (or a configuration error, retried with health DOWN).
 */
final class KafkaRefused extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Failure failure;

    KafkaRefused(Failure failure) {
        super(failure.message(), null, false, false);
        this.failure = failure;
    }

    Failure failure() {
        return failure;
    }

    @Override
    public String toString() {
        return failure.message();
    }
}
