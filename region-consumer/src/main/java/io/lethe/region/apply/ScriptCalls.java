package io.lethe.region.apply;

import io.lethe.config.Defaults;
import io.lethe.config.NamespaceConfig;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/** The EVALSHA calls of the Redis contract for an invalidation: invalidate.lua or upsert.lua, with the namespace's TTLs. */
final class ScriptCalls {
    private final Map<String, NamespaceConfig> namespaces;

    /** Per namespace, the longest fence TTL of it and every namespace whose keys may overlap its. */
    private final Map<String, Duration> fenceTtls;

    /** The namespaces the region caches: upserts of the others it receives are applied as deletes. */
    private final Set<String> cached;

    ScriptCalls(Map<String, NamespaceConfig> namespaces, Set<String> cached) {
        this.namespaces = namespaces;
        this.cached = Set.copyOf(cached);
        this.fenceTtls = fenceTtls(namespaces);
    }

    /**
     * The fence TTL an invalidation of each namespace sets: the longest of its own and of every
     * namespace whose keys may overlap its, since a key both can hold is read by loaders of either,
     * which load for up to their own fence TTL (the scripts never shorten a fence either).
     */
    static Map<String, Duration> fenceTtls(Map<String, NamespaceConfig> namespaces) {
        Map<String, Duration> out = new HashMap<>();
        for (NamespaceConfig ns : namespaces.values()) {
            Duration ttl = ns.fenceTtl();
            for (NamespaceConfig other : namespaces.values()) {
                if (other != ns && ns.overlaps(other) && other.fenceTtl().compareTo(ttl) > 0) {
                    ttl = other.fenceTtl();
                }
            }
            out.put(ns.name(), ttl);
        }
        return Map.copyOf(out);
    }

    /** The contract script call that applies {@code e} to {@code key}. */
    ScriptCall call(InvalidationEvent e, String key) {
        NamespaceConfig ns = namespaces.get(e.namespace());
        String[] keys = {key, RedisLayout.fenceKey(key)};
        String fenceTtl = Long.toString(fenceTtl(e).toMillis());
        String seed = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40));
        if (ns == null) {
            // a namespace no longer configured, invalidated wholesale by the globs recorded while it was (TopicMove)
            return new ScriptCall(LuaScript.INVALIDATE, keys, e.version(), fenceTtl, seed, "1");
        }
        if (e.action() == Action.UPSERT && cached.contains(e.namespace())) {
            return new ScriptCall(LuaScript.UPSERT, keys, e.version(), e.payload(), Long.toString(ns.ttl().toMillis()), fenceTtl, seed);
        }
        return new ScriptCall(LuaScript.INVALIDATE, keys, e.version(), fenceTtl, seed, deletesWhateverIsThere(e) ? "1" : "0");
    }

    /**
     * Derived keys' entries carry no meaningful version (several rows reach them, and a reader may
     * have filled one with any version); a pattern's keys belong to other rows, often of other
     * namespaces, whose versions cannot be compared with the changed row's; and a namespace-scoped
     * invalidation stands for changes that could not be named exactly: all delete whatever entry
     * is there.
     */
    static boolean deletesWhateverIsThere(InvalidationEvent e) {
        return e.scope() == Scope.DERIVED || e.scope() == Scope.PATTERN || e.scope() == Scope.NAMESPACE;
    }

    /** The event's namespace's fence TTL; for a namespace no longer configured, the longest of all. */
    private Duration fenceTtl(InvalidationEvent e) {
        Duration ttl = fenceTtls.get(e.namespace());
        return ttl != null
                ? ttl
                : fenceTtls.values().stream().max(Duration::compareTo)
                        .orElse(Defaults.FENCE_TTL);
    }

    /** A delete of whatever {@code key} holds, fencing it at the highest version (the widening of a poison key). */
    ScriptCall fenceAtMax(InvalidationEvent e, String key) {
        return new ScriptCall(LuaScript.INVALIDATE, new String[] {key, RedisLayout.fenceKey(key)}, Versions.MAX,
                Long.toString(fenceTtl(e).toMillis()),
                Long.toString(ThreadLocalRandom.current().nextLong(1L << 40)), "1");
    }
}
