package io.lethe.cache;

/**
 * A load was refused by its namespace's admission control ({@link Policy#withLoadLimits}): the
 * namespace already had its bound of loads running, or had started its bound of loads this
 * second, for longer than the wait allowed. Nothing was loaded; map it to a fallback.
 */
public final class LoadRejectedException extends CacheLoadException {
    private final String namespace;
    private final String reason;

    LoadRejectedException(String namespace, String reason, String message) {
        super(message);
        this.namespace = namespace;
        this.reason = reason;
    }

    /** The namespace whose limit refused the load. */
    public String namespace() {
        return namespace;
    }

    /** Which bound: {@code concurrency} or {@code rate}. */
    public String reason() {
        return reason;
    }
}
