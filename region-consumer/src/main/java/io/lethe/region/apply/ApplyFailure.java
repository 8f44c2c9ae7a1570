package io.lethe.region.apply;

import io.lethe.stage.failure.Failure;

/** A Redis failure after which the whole batch is applied again (nothing is committed). */
final class ApplyFailure extends Exception {
    private final Failure failure;

    public ApplyFailure(Failure failure, String message) {
        super(message, failure.cause());
        this.failure = failure;
    }

    /** Retriable or a configuration error; never poison. */
    public Failure failure() {
        return failure;
    }

    /** The retry metric's tag: timeout, noscript, connection, busy, loading, readonly, authentication, ... */
    public String kind() {
        return failure.reason();
    }
}
