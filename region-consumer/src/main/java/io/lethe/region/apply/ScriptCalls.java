package io.lethe.region.apply;

import io.lethe.config.NamespaceConfig;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** The EVALSHA calls of the Redis contract for an invalidation: invalidate.lua or upsert.lua, with the namespace's TTLs. */
final class ScriptCalls {
    private final Map<String, NamespaceConfig> namespaces;

    ScriptCalls(Map<String, NamespaceConfig> namespaces) {
        this.namespaces = namespaces;
    }

    /** The contract script call that applies {@code e} to {@code key}. */
    ScriptCall call(InvalidationEvent e, String key) {
        NamespaceConfig ns = namespaces.get(e.namespace());
        String[] keys = {key, RedisLayout.fenceKey(key)};
        String fenceTtl = Long.toString(ns.fenceTtl().toMillis());
        String seed = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40));
        if (e.action() == Action.UPSERT) {
            return new ScriptCall(LuaScript.UPSERT, keys, e.version(), e.payload(), Long.toString(ns.ttl().toMillis()), fenceTtl, seed);
        }
        return new ScriptCall(LuaScript.INVALIDATE, keys, e.version(), fenceTtl, seed, deletesWhateverIsThere(e) ? "1" : "0");
    }

    /**
     * Derived keys' entries carry no meaningful version (several rows reach them, and a reader may
     * have filled one with any version), and a namespace-scoped invalidation stands for changes
     * that could not be named exactly: both delete whatever entry is there.
     */
    static boolean deletesWhateverIsThere(InvalidationEvent e) {
        return e.scope() == Scope.DERIVED || e.scope() == Scope.NAMESPACE;
    }

    /** A delete of whatever {@code key} holds, fencing it at the highest version (the widening of a poison key). */
    ScriptCall fenceAtMax(InvalidationEvent e, String key) {
        return new ScriptCall(LuaScript.INVALIDATE, new String[] {key, RedisLayout.fenceKey(key)}, Versions.MAX,
                Long.toString(namespaces.get(e.namespace()).fenceTtl().toMillis()),
                Long.toString(ThreadLocalRandom.current().nextLong(1L << 40)), "1");
    }
}
