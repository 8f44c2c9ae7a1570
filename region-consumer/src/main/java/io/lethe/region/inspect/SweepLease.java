package io.lethe.region.inspect;

import io.lethe.region.redis.RegionRedis;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * Which instance of a region sweeps it: one at a time, so two replicas of a region consumer add the
 * database load of one sweep and confirm each stale key once. A lease in the region's Redis
 * ({@code SET lethe:sweep:<group> <instance> NX PX <ttl>}, inside Lethe's {@code lethe:*} keyspace
 * the region's ACL user already holds), renewed while the instance sweeps; an instance that stops
 * renewing (crashed, partitioned) hands the sweep over within one TTL.
 */
final class SweepLease {
    /** How long a lease lasts without renewal: how long a region goes unswept after its sweeping instance died. */
    static final Duration TTL = Duration.ofSeconds(30);
    private static final String RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) "
            + "else return 0 end";
    private static final String RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    private final String key;
    private final String instance = UUID.randomUUID().toString();
    private final LongSupplier nanos;
    private boolean held;
    private long checkedAt;
    private boolean checked;

    /** @param group the region's consumer group id: the lease is the region's, whatever the instance */
    SweepLease(String group, LongSupplier nanos) {
        this.key = "lethe:sweep:" + group;
        this.nanos = nanos;
    }

    String key() {
        return key;
    }

    /**
     * True while this instance holds the lease: taken when free, renewed a third of a TTL after the
     * last check (Redis is asked at most that often; in between the last answer holds).
     */
    boolean held(RegionRedis redis) {
        long now = nanos.getAsLong();
        if (checked && now - checkedAt < TTL.toNanos() / 3) {
            return held;
        }
        RedisClusterCommands<String, String> c = sync(redis.controlConnection());
        String ttl = Long.toString(TTL.toMillis());
        if (held) {
            Long renewed = c.eval(RENEW, ScriptOutputType.INTEGER, new String[] {key}, instance, ttl);
            held = renewed != null && renewed == 1L;
        }
        if (!held) {
            held = "OK".equals(c.set(key, instance, SetArgs.Builder.nx().px(TTL.toMillis())));
        }
        checked = true;
        checkedAt = now;
        return held;
    }

    /** Gives the lease up (the sweep stops), so another instance takes it at once rather than after a TTL. */
    void release(RegionRedis redis) {
        if (held) {
            held = false;
            checked = false;
            sync(redis.controlConnection()).eval(RELEASE, ScriptOutputType.INTEGER, new String[] {key}, instance);
        }
    }

    /** Forgets the last answer: the next {@link #held} asks Redis (after a Redis outage). */
    void forget() {
        checked = false;
    }

    @SuppressWarnings("unchecked")
    private static RedisClusterCommands<String, String> sync(StatefulConnection<String, String> c) {
        return c instanceof StatefulRedisClusterConnection<String, String> cluster
                ? cluster.sync()
                : ((StatefulRedisConnection<String, String>) c).sync();
    }
}
