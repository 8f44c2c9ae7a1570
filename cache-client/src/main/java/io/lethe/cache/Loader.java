package io.lethe.cache;

/** Reads one key's value from the database on a miss. */
@FunctionalInterface
public interface Loader<T> {
    Loaded<T> load(String key) throws Exception;
}
