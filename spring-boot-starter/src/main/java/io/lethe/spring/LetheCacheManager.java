package io.lethe.spring;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.cache.Cache;
import org.springframework.cache.CacheManager;

/**
 * One {@link LetheSpringCache} per Lethe namespace configured under {@code lethe.cache.namespaces}.
 * A cache name that is not a configured namespace has no cache ({@link #getCache} returns null, and
 * Spring reports the name): a namespace's policy and key template are never guessed.
 */
public final class LetheCacheManager implements CacheManager {
    private final Map<String, LetheSpringCache> caches;

    public LetheCacheManager(Collection<LetheSpringCache> caches) {
        Map<String, LetheSpringCache> byName = new LinkedHashMap<>();
        caches.forEach(c -> byName.put(c.getName(), c));
        this.caches = Collections.unmodifiableMap(byName);
    }

    @Override
    public Cache getCache(String name) {
        return caches.get(name);
    }

    @Override
    public Collection<String> getCacheNames() {
        return caches.keySet();
    }
}
