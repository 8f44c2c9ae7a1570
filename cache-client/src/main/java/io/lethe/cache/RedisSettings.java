package io.lethe.cache;

import io.lettuce.core.RedisURI;
import io.lettuce.core.StaticCredentialsProvider;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * How {@link LetheCache.Builder} reaches the region's Redis: the URIs (seed nodes of a cluster), the
 * command timeout, the credentials, the trusted CA certificates, how long to keep trying to
 * connect, and the circuit breaker in front of the reads. {@link #open} connects.
 */
final class RedisSettings {
    final List<RedisURI> uris = new ArrayList<>();
    boolean cluster;
    Duration timeout = Duration.ofMillis(500);
    Duration connectWithin = Duration.ofSeconds(10);
    Path trustedCertificates;
    String user;
    char[] password;
    RedisBreaker.Options breaker = RedisBreaker.Options.DEFAULT;

    /** Connects (waiting up to {@link #connectWithin}); each failed attempt counts in {@code lethe.cache.redis.connect.failures}. */
    CacheRedis open(NearCache near, Clock clock, MeterRegistry registry) {
        uris.forEach(u -> u.setTimeout(timeout));
        if (password != null) {
            StaticCredentialsProvider credentials = new StaticCredentialsProvider(user, password);
            uris.forEach(u -> u.setCredentialsProvider(credentials));
        }
        String where = uris.stream().map(u -> u.getHost() + ":" + u.getPort()).collect(Collectors.joining(","));
        return new CacheRedis(uris, cluster, near, connectWithin, trustedCertificates, new RedisBreaker(where, breaker, clock, registry),
                clock, registry.counter(CacheMetrics.CONNECT_FAILURES, "redis", where)::increment);
    }
}
