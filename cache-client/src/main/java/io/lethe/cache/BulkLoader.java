package io.lethe.cache;

import java.util.Map;
import java.util.Set;

/** Reads several keys' values from the database in one call, for {@link CacheNamespace#getAll}. */
@FunctionalInterface
public interface BulkLoader<T> {
    /**
     * @param keys the keys that missed (never empty)
     * @return what was found for each key; a key left out of the map is not found (as {@link Loaded#notFound()})
     */
    Map<String, Loaded<T>> load(Set<String> keys) throws Exception;
}
