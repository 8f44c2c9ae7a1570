package io.lethe.cache;

/** A loader failed (or returned null); the cache was not changed. */
public class CacheLoadException extends RuntimeException {
    public CacheLoadException(String message) {
        super(message);
    }

    public CacheLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
