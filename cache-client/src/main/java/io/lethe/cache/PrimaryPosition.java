package io.lethe.cache;

/**
 * The primary's current position and history, the bound of every read-your-writes token
 * ({@link LetheCache.Builder#primaryPosition}). {@link ReadTokens#primaryPosition(javax.sql.DataSource)}
 * makes one from the application's connection pool to the primary.
 */
@FunctionalInterface
public interface PrimaryPosition {
    /** What {@link ReadTokens#take} returns now on the primary. */
    ReadToken current() throws Exception;
}
