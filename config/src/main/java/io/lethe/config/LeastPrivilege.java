package io.lethe.config;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The least PostgreSQL and Redis privileges of each Lethe role, derived from the configuration:
 * the one source of the runbook's recipe (docs/runbook.md, "Least privilege", pinned by a test)
 * and of the roles LeastPrivilegeIT runs the product as. Kafka's ACLs are stage's
 * {@code io.lethe.stage.kafka.KafkaAcls} (config reads the file and does no Kafka administration).
 */
public final class LeastPrivilege {
    /**
     * Commands a region consumer sends, itself or from its scripts (invalidate, upsert, checkpoint,
     * verified-hset), none from {@code @dangerous} but {@code INFO}: the restore guard reads the
     * server's {@code run_id} to tell a restarted or replaced Redis. {@code SCAN} serves patterns,
     * {@code UNLINK} the poison widening, {@code INCR}, {@code ZADD} and {@code ZSCORE} every
     * namespace-wide invalidation (the namespace's epoch and wide watermark: a first feed, a topic
     * move, lost offsets, a reset), {@code HDEL} the applied watermark of partitions given away,
     * {@code DBSIZE} the restore guard (a server holding keys but no checkpoint), {@code OBJECT
     * FREQ|IDLETIME} prewarm's hottest-first order,
     * {@code CLUSTER} subcommands a Redis Cluster only.
     */
    public static final List<String> REGION_COMMANDS = List.of("ping", "hello", "auth", "client|setname", "info", "time",
            "script|load", "evalsha", "eval", "scan", "unlink", "del", "exists", "type", "get", "set", "hget", "hgetall", "hmget",
            "hset", "hsetnx", "hexists", "hincrby", "hkeys", "hdel", "incr", "zadd", "zscore", "dbsize", "object|freq", "object|idletime",
            "pexpire", "persist", "pttl", "xadd", "readonly",
            "cluster|nodes", "cluster|slots", "cluster|countkeysinslot", "cluster|getkeysinslot");
    /**
     * Commands the application's cache-client sends, itself or from fill.lua, confirm.lua and
     * invalidate.lua (a fill's undo): reads, and fills through the contract scripts (no plain write
     * of an entry, no delete outside a script); {@code client|tracking} for the near cache,
     * {@code persist} for a fill without TTL, {@code set} and {@code eval} for the optional fill
     * lock (its key and its release script only).
     */
    public static final List<String> CACHE_CLIENT_COMMANDS = List.of("ping", "hello", "auth", "client|setname", "client|tracking",
            "script|load", "evalsha", "eval", "get", "set", "hgetall", "hmget", "hget", "type", "del", "hset", "pexpire", "persist", "pttl",
            "exists", "hincrby", "time", "xadd", "readonly", "cluster|nodes", "cluster|slots");
    /**
     * Lethe's keys the cache-client reads or writes: fences, namespace epochs, what each namespace's
     * entries hold (read by readers declared with their configuration), the shadow-read audit stream,
     * the region's applied watermark (read-your-writes) and the fill locks.
     */
    public static final List<String> CACHE_CLIENT_LETHE_KEYS = List.of("lethe:fence:*", "lethe:epoch:*", "lethe:holds:*", "lethe:audit:*",
            "lethe:lsn:*", "lethe:lock:*");

    private LeastPrivilege() {
    }

    /**
     * Redis key patterns of a region's user: the globs of every namespace it receives (templates and
     * patterns) and Lethe's own {@code lethe:*} (fences, epochs, checkpoints, watermarks, holds records and the intents
     * beside them). A key
     * outside them is refused by Redis and dead-lettered as poison for that key alone
     * ({@code redis-key-denied}); the region goes on.
     */
    public static List<String> redisKeyPatterns(LetheConfig config, RegionConfig region) {
        Set<String> globs = new LinkedHashSet<>();
        config.receives(region).forEach(ns -> globs.addAll(config.namespaces().get(ns).namespaceGlobs()));
        globs.add("lethe:*");
        return List.copyOf(globs);
    }

    /** {@code ACL SETUSER} of a region consumer's user ({@code password} is the literal to set, e.g. {@code PASSWORD}). */
    public static String redisRegionUser(LetheConfig config, RegionConfig region, String user, String password) {
        return setUser(user, password, redisKeyPatterns(config, region), REGION_COMMANDS);
    }

    /**
     * {@code ACL SETUSER} of the application's cache-client in {@code region}: the namespaces' keys and
     * only {@link #CACHE_CLIENT_LETHE_KEYS} of Lethe's, fewer commands. ({@code del}, {@code hset} and
     * {@code pexpire} are there because fill.lua runs them under the caller's ACL.)
     */
    public static String redisCacheClientUser(LetheConfig config, RegionConfig region, String user, String password) {
        return "ACL SETUSER " + String.join(" ", redisCacheClientUserArgs(config, region, user, password));
    }

    /** The ACL SETUSER arguments of {@link #redisCacheClientUser}; the first is the user. */
    public static List<String> redisCacheClientUserArgs(LetheConfig config, RegionConfig region, String user, String password) {
        List<String> keys = new ArrayList<>(redisKeyPatterns(config, region));
        keys.remove("lethe:*");
        keys.addAll(CACHE_CLIENT_LETHE_KEYS);
        return args(user, password, keys, CACHE_CLIENT_COMMANDS);
    }

    /** The ACL SETUSER arguments, one per element (for a client's {@code dispatch}); the first is the user. */
    public static List<String> redisRegionUserArgs(LetheConfig config, RegionConfig region, String user, String password) {
        return args(user, password, redisKeyPatterns(config, region), REGION_COMMANDS);
    }

    private static String setUser(String user, String password, List<String> keys, List<String> commands) {
        return "ACL SETUSER " + String.join(" ", args(user, password, keys, commands));
    }

    private static List<String> args(String user, String password, List<String> keys, List<String> commands) {
        List<String> a = new ArrayList<>(List.of(user, "reset", "on", ">" + password));
        keys.forEach(k -> a.add("~" + k));
        a.add("-@all");
        commands.forEach(c -> a.add("+" + c));
        return a;
    }

    /**
     * What an administrator runs once so capture needs neither table ownership nor CREATE
     * ({@code source.create-publication: false}): the heartbeat table and the publication, made by
     * the administrator; capture's role only logs in with REPLICATION and writes its heartbeat row.
     * The reader role ({@code source.reader-user}) reads rows for {@code lethe inspect}.
     */
    public static List<String> postgresPrepared(LetheConfig config, String captureRole, String capturePassword, String readerRole,
            String readerPassword) {
        SourceConfig s = config.source();
        List<String> tables = new ArrayList<>(config.tables());
        List<String> published = new ArrayList<>(tables);
        published.add(s.heartbeatTable());
        List<String> out = new ArrayList<>();
        out.add("CREATE ROLE " + ident(captureRole) + " LOGIN REPLICATION PASSWORD '" + capturePassword + "'");
        out.add("CREATE TABLE IF NOT EXISTS " + s.heartbeatTable() + " (slot text PRIMARY KEY, ts timestamptz NOT NULL, "
                + "source_state text, source_history text)");
        out.add("GRANT SELECT, INSERT, UPDATE ON " + s.heartbeatTable() + " TO " + ident(captureRole));
        if (s.sharded()) {
            // one publication per capture shard: its own tables and the heartbeat table (each shard's slot beats in it)
            for (ShardConfig shard : s.shards().values()) {
                List<String> own = new ArrayList<>(shard.tables());
                own.add(s.heartbeatTable());
                out.add("CREATE PUBLICATION " + ident(shard.publication()) + " FOR TABLE " + String.join(", ", own)
                        + " WITH (publish_via_partition_root = true)");
            }
        } else {
            out.add("CREATE PUBLICATION " + ident(s.publication()) + " FOR TABLE " + String.join(", ", published)
                    + " WITH (publish_via_partition_root = true)");
        }
        out.add("CREATE ROLE " + ident(readerRole) + " LOGIN PASSWORD '" + readerPassword + "'");
        out.add("GRANT SELECT ON " + String.join(", ", tables) + " TO " + ident(readerRole));
        return out;
    }

    /**
     * The runbook's recipe for {@code config} (docs/runbook.md, "Least privilege"): Kafka ACLs per
     * role, the PostgreSQL statements and each region's Redis users. Passwords are placeholders.
     *
     * @param kafkaAcls the {@code kafka-acls} commands of every role, as stage's {@code KafkaAcls.commands}
     *                  renders them from the same configuration
     */
    public static String recipe(LetheConfig config, String kafkaAcls) {
        StringBuilder out = new StringBuilder();
        out.append("```bash\n").append(kafkaAcls).append("```\n\n");
        out.append("```sql\n");
        postgresPrepared(config, config.source().user(), "...", config.source().reader(), "...")
                .forEach(sql -> out.append(sql).append(";\n"));
        out.append("```\n\n```\n");
        for (RegionConfig region : config.regions().values()) {
            String user = region.redisUser() == null ? "lethe-region" : region.redisUser();
            out.append("# region ").append(region.name()).append(": the region consumer, then the application's cache-client\n");
            out.append(redisRegionUser(config, region, user, "PASSWORD")).append('\n');
            out.append(redisCacheClientUser(config, region, "cache-client", "PASSWORD")).append('\n');
        }
        out.append("```\n");
        return out.toString();
    }

    private static String ident(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
