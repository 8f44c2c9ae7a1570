package io.lethe.cache;

/**
 * One of a namespace's hot keys in this process ({@link CacheNamespace#hotKeys}).
 *
 * @param key   the key
 * @param reads its estimated reads in the current window of the namespace's reads (an upper bound)
 */
public record HotKey(String key, int reads) {
}
