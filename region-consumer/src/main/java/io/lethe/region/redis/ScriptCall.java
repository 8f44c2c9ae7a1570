package io.lethe.region.redis;

import io.lethe.schemas.redis.LuaScript;

/**
 * One EVALSHA: a contract script with its KEYS and ARGV.
 *
 * @param script the script
 * @param keys   KEYS (cache key, fence key)
 * @param args   ARGV, as documented in the script
 */
public record ScriptCall(LuaScript script, String[] keys, String... args) {
}
