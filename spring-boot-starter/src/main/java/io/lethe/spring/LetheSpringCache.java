package io.lethe.spring;

import io.lethe.cache.CacheLoadException;
import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Invalidations;
import io.lethe.cache.Keys;
import io.lethe.cache.Loaded;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import org.springframework.cache.Cache;
import org.springframework.cache.interceptor.SimpleKey;
import org.springframework.cache.support.SimpleValueWrapper;

/**
 * A Spring {@link Cache} over one Lethe namespace, so that {@code @Cacheable} fills are fenced:
 *
 * <ul>
 *   <li>{@link #get(Object, Callable)} ({@code @Cacheable(sync = true)}) is the namespace's
 *       {@link CacheNamespace#get}: single-flight, admission control, fenced fill. The method runs
 *       on a Lethe loader thread, outside the caller's transaction (what it reads is committed).</li>
 *   <li>{@link #get(Object)} then {@link #put} (a plain {@code @Cacheable}): the miss's fence is
 *       remembered for the key on this thread (the last {@value #REMEMBERED_MISSES} misses per thread
 *       and cache), and the put fills under it, so a put whose value was computed before an
 *       invalidation is refused like any stale fill. A put without a miss of its own thread before it
 *       ({@code @CachePut}, a put from another thread, or one whose miss was forgotten) is refused
 *       with an {@link IllegalStateException}: nothing fences it.</li>
 *   <li>{@link #evict} ({@code @CacheEvict}) purges through the pipeline ({@link Invalidations}), in
 *       every region and in order with CDC's invalidations; not a DEL, which a concurrent stale
 *       fill could overtake. It returns once Kafka has the purge; each region applies it with its lag.</li>
 *   <li>{@link #retrieve(Object, java.util.function.Supplier)} ({@code @Cacheable(sync = true)} on a
 *       method returning a {@code CompletableFuture}) is {@link CacheNamespace#getAsync}. Without
 *       {@code sync}, Spring's asynchronous caching puts from another thread: refused as above.</li>
 *   <li>{@link #clear} and {@link #invalidate} ({@code allEntries = true}) are refused: a whole
 *       namespace is purged with {@code lethe invalidate --force}, deliberately.</li>
 * </ul>
 */
public final class LetheSpringCache implements Cache {
    /** Misses remembered per thread and cache, for the put that follows them. */
    static final int REMEMBERED_MISSES = 64;

    private final CacheNamespace<Object> namespace;
    private final Keys keyTemplate;
    private final Invalidations invalidations;
    private final ThreadLocal<Map<String, CacheNamespace.Lookup<Object>>> misses = ThreadLocal
            .withInitial(() -> new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, CacheNamespace.Lookup<Object>> eldest) {
                    return size() > REMEMBERED_MISSES;
                }
            });

    /**
     * Keys this thread missed inside a Spring transaction: the method's value may be the transaction's
     * own uncommitted write (rolled back, it would stay cached with no change to invalidate it) or a
     * snapshot older than the miss, so the put that follows is not written (the value is returned uncached).
     */
    private final ThreadLocal<java.util.Set<String>> missedInTransaction = ThreadLocal.withInitial(java.util.HashSet::new);
    private static final boolean SPRING_TX = org.springframework.util.ClassUtils.isPresent(
            "org.springframework.transaction.support.TransactionSynchronizationManager", LetheSpringCache.class.getClassLoader());

    /** True when this thread runs inside an actual Spring-managed transaction. */
    private static boolean inTransaction() {
        return SPRING_TX && org.springframework.transaction.support.TransactionSynchronizationManager.isActualTransactionActive();
    }

    /**
     * @param keyTemplate   renders keys that are not Strings (null: keys must be Strings)
     * @param invalidations for {@link #evict} (null: evict is refused)
     */
    public LetheSpringCache(CacheNamespace<Object> namespace, Keys keyTemplate, Invalidations invalidations) {
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        this.keyTemplate = keyTemplate;
        this.invalidations = invalidations;
    }

    @Override
    public String getName() {
        return namespace.name();
    }

    @Override
    public Object getNativeCache() {
        return namespace;
    }

    /**
     * The Lethe key of a Spring key: a String as it is (with a key template, only a key the template
     * could have rendered: a key Lethe would never invalidate is refused), else rendered with the
     * namespace's key template.
     */
    String key(Object key) {
        Objects.requireNonNull(key, "key");
        if (key instanceof String s && keyTemplate != null) {
            if (!keyTemplate.matches(s)) {
                throw new IllegalArgumentException("cache '" + getName() + "': key '" + s + "' is not one its key template "
                        + "renders, so no change of the row would ever invalidate it; pass the column values instead "
                        + "(@Cacheable(key = \"#id\")) and let the template render the key");
            }
            return s;
        }
        if (keyTemplate == null) {
            if (key instanceof String s) {
                return s;
            }
            throw new IllegalArgumentException("cache '" + getName() + "': key of type " + key.getClass().getName()
                    + " is not a Lethe key; give the cache a key template (lethe.cache.namespaces." + getName()
                    + ".key-template, e.g. product:{id}) or a String key (@Cacheable(key = \"'product:' + #id\"))");
        }
        if (key instanceof SimpleKey simple) {
            return keyTemplate.render(simpleKeyParams(simple));
        }
        return keyTemplate.render(key);
    }

    private static Object[] simpleKeyParams(SimpleKey key) {
        // SimpleKey keeps its parameters private; its toString is "SimpleKey [a,b]", which loses types
        try {
            java.lang.reflect.Field f = SimpleKey.class.getDeclaredField("params");
            f.setAccessible(true);
            return ((Object[]) f.get(key)).clone();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read the parameters of " + key + "; use a key = \"...\" expression", e);
        }
    }

    @Override
    public ValueWrapper get(Object key) {
        String k = key(key);
        CacheNamespace.Lookup<Object> lookup = namespace.lookup(k);
        Map<String, CacheNamespace.Lookup<Object>> mine = misses.get();
        missedInTransaction.get().remove(k);
        if (lookup.hit()) {
            mine.remove(k);
            return new SimpleValueWrapper(lookup.value());
        }
        if (inTransaction()) {
            mine.remove(k);
            missedInTransaction.get().add(k);
            return null;
        }
        mine.put(k, lookup);
        return null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T get(Object key, Class<T> type) {
        ValueWrapper wrapper = get(key);
        Object value = wrapper == null ? null : wrapper.get();
        if (value != null && type != null && !type.isInstance(value)) {
            throw new IllegalStateException("cache '" + getName() + "': cached value is a " + value.getClass().getName()
                    + ", not the " + type.getName() + " asked for");
        }
        return (T) value;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T get(Object key, Callable<T> valueLoader) {
        String k = key(key);
        try {
            return (T) namespace.get(k, x -> {
                T value = valueLoader.call();
                return value == null ? Loaded.notFound() : Loaded.of(value);
            });
        } catch (CacheLoadException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new ValueRetrievalException(key, valueLoader, cause);
        }
    }

    /**
     * {@code @Cacheable(sync = true)} on a method returning a {@code CompletableFuture}: the
     * namespace's {@link CacheNamespace#getAsync}, whose load waits for the method's future.
     */
    @Override
    @SuppressWarnings("unchecked")
    public <T> java.util.concurrent.CompletableFuture<T> retrieve(Object key,
            java.util.function.Supplier<java.util.concurrent.CompletableFuture<T>> valueLoader) {
        String k = key(key);
        return (java.util.concurrent.CompletableFuture<T>) namespace.getAsync(k, x -> {
            T value = valueLoader.get().join();
            return value == null ? Loaded.notFound() : Loaded.of(value);
        });
    }

    @Override
    public void put(Object key, Object value) {
        String k = key(key);
        if (missedInTransaction.get().remove(k)) {
            return; // missed inside a transaction: not written (see missedInTransaction)
        }
        CacheNamespace.Lookup<Object> miss = misses.get().remove(k);
        if (miss == null) {
            throw new IllegalStateException("cache '" + getName() + "' refuses a put of a key this thread did not miss first: "
                    + "only a fill under the fence read at a miss is safe from a concurrent invalidation. "
                    + "Use @Cacheable(sync = true) or Cache.get(key, Callable); for @CachePut, use @CacheEvict instead");
        }
        namespace.fill(miss, value == null ? Loaded.notFound() : Loaded.of(value));
    }

    /** As {@link #put} (a fill never replaces an entry another reader filled since the miss); returns null. */
    @Override
    public ValueWrapper putIfAbsent(Object key, Object value) {
        put(key, value);
        return null;
    }

    @Override
    public void evict(Object key) {
        if (invalidations == null) {
            throw new IllegalStateException("cache '" + getName() + "': evict purges through the pipeline and needs lethe.yml: "
                    + "set lethe.cache.config");
        }
        invalidations.invalidate(getName(), key(key));
    }

    /** Purges as {@link #evict}; returns false: whether the key was cached is not known (the regions remove it later). */
    @Override
    public boolean evictIfPresent(Object key) {
        evict(key);
        return false;
    }

    @Override
    public void clear() {
        throw new UnsupportedOperationException("cache '" + getName() + "': purging a whole Lethe namespace from the application "
                + "is refused; use 'lethe invalidate --namespace " + getName() + " --pattern <glob> --force' deliberately, "
                + "or evict keys (Invalidations.invalidatePattern for a glob within the namespace)");
    }

    @Override
    public boolean invalidate() {
        clear();
        return false;
    }
}
