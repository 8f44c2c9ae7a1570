package io.lethe.cache;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisHashAsyncCommands;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.async.RedisStreamAsyncCommands;
import io.lettuce.core.api.async.RedisStringAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cache-client's one connection to Redis (standalone, Sentinel or Cluster; TLS with trusted
 * certificates): connected with retries while {@code build()} waits, commands rejected at once
 * while it is down, and, with a near cache, the CLIENT TRACKING that keeps the near cache
 * coherent: invalidation pushes drop copies, a lost connection or an open breaker suspends it.
 * {@link CacheRedis} sends the commands.
 */
final class CacheConnection implements AutoCloseable {
    /** Logs under {@link CacheRedis}'s name, as the cache-client's Redis side always has. */
    private static final Logger LOG = LoggerFactory.getLogger(CacheRedis.class);
    private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);

    /**
     * Reconnect attempts back off from 10 ms to at most 1 s (Lettuce's default grows to 30 s): after
     * an outage of half a minute reads return to Redis within a second of it answering again.
     */
    static final Supplier<Delay> RECONNECT_DELAY = () -> Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2,
            TimeUnit.MILLISECONDS);

    private final ClientResources resources = DefaultClientResources.builder().reconnectDelay(RECONNECT_DELAY).build();
    private final RedisClient client;
    private final RedisClusterClient clusterClient;
    private final StatefulConnection<String, byte[]> connection;
    final RedisHashAsyncCommands<String, byte[]> hashes;
    final RedisScriptingAsyncCommands<String, byte[]> scripts;
    final RedisStringAsyncCommands<String, byte[]> strings;
    final RedisStreamAsyncCommands<String, byte[]> streams;
    /** In front of the reads; null: none. Its transitions suspend and resume the near cache. */
    private final RedisBreaker breaker;
    private final Clock clock;
    /** Whether the connection runs with CLIENT TRACKING on now (false from a disconnect until it is enabled again). */
    private volatile boolean tracked;

    /** @param failedConnect called after each connection attempt that failed while build() waits for Redis */
    CacheConnection(List<RedisURI> uris, boolean cluster, NearCache near, Duration connectWithin, Path trustedCertificates,
            RedisBreaker breaker, Clock clock, Runnable failedConnect) {
        SslOptions.Builder ssl = SslOptions.builder();
        if (trustedCertificates != null) {
            ssl.trustManager(trustedCertificates.toFile());
        }
        this.breaker = breaker;
        this.clock = clock;
        if (breaker != null && near != null) {
            // an open breaker is an outage the connection may not see (a paused or overloaded
            // Redis keeps it open): the L1 is suspended from when Redis last answered, and used
            // again only when probes succeeded on a connection that tracks
            breaker.onTransitions(near::suspend, () -> {
                if (tracked) {
                    near.activate();
                }
            });
        }
        if (cluster && near != null) {
            throw new IllegalStateException("the near cache needs a standalone or Sentinel Redis: CLIENT TRACKING is per node");
        }
        if (cluster) {
            client = null;
            clusterClient = RedisClusterClient.create(resources, uris);
            clusterClient.setOptions(ClusterClientOptions.builder().sslOptions(ssl.build())
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
            StatefulRedisClusterConnection<String, byte[]> c = connect(() -> clusterClient.connect(CODEC), uris, connectWithin,
                    failedConnect);
            connection = c;
            hashes = c.async();
            scripts = c.async();
            strings = c.async();
            streams = c.async();
        } else {
            clusterClient = null;
            client = RedisClient.create(resources);
            // while the connection is down a command fails at once (and counts against the breaker)
            // instead of queueing until the command timeout
            ClientOptions.Builder options = ClientOptions.builder().sslOptions(ssl.build())
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
            if (near != null) {
                options.protocolVersion(ProtocolVersion.RESP3);
            }
            client.setOptions(options.build());
            StatefulRedisConnection<String, byte[]> c = connect(() -> client.connect(CODEC, uris.get(0)), uris, connectWithin,
                    failedConnect);
            if (near != null) {
                trackInvalidations(c, near);
            }
            connection = c;
            hashes = c.async();
            scripts = c.async();
            strings = c.async();
            streams = c.async();
        }
    }

    /** Whether this is a Redis Cluster (whose nodes do not keep the order of commands sent to different ones). */
    boolean cluster() {
        return clusterClient != null;
    }

    /**
     * Connects, trying again while Redis refuses or is slow to answer the handshake (a restart, a
     * loaded host), for up to {@code within}; then throws with what was tried. Once connected,
     * Lettuce reconnects by itself and reads fall back to the loader meanwhile.
     */
    private static <C> C connect(Supplier<C> connect, List<RedisURI> uris, Duration within, Runnable failedConnect) {
        long deadline = System.nanoTime() + within.toNanos();
        long backoffMillis = 100;
        String where = uris.stream().map(u -> u.getHost() + ":" + u.getPort()).toList().toString();
        for (int attempt = 1;; attempt++) {
            try {
                return connect.get();
            } catch (RedisConnectionException e) {
                failedConnect.run();
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis) > deadline) {
                    throw new RedisConnectionException("cannot connect to Redis " + where + " within " + within
                            + " (" + attempt + " attempts): " + e.getMessage(), e);
                }
                LOG.warn("Redis {} not reachable yet (attempt {}: {}); trying again in {} ms", where, attempt, e.getMessage(),
                        backoffMillis);
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoffMillis = Math.min(backoffMillis * 2, 1000);
            }
        }
    }

    /**
     * Server-assisted client-side caching: this connection's reads are tracked, Redis pushes an
     * {@code invalidate} message when another connection changes a tracked key (NOLOOP: our own
     * writes do not bounce back, {@link CacheRedis}'s own writes drops their keys from L1 itself), and a lost
     * connection suspends the L1 (see {@link NearCache#suspend}) until tracking is back.
     */
    private void trackInvalidations(StatefulRedisConnection<String, byte[]> c, NearCache near) {
        c.addListener(message -> {
            if (!"invalidate".equals(message.getType())) {
                return;
            }
            List<Object> content = message.getContent(buffer -> StandardCharsets.UTF_8.decode(buffer).toString());
            Object keys = content.size() > 1 ? content.get(1) : null;
            if (keys instanceof List<?> list) {
                List<String> names = new ArrayList<>(list.size());
                list.forEach(k -> names.add(String.valueOf(k)));
                near.invalidate(names);
            } else {
                near.deactivate(); // a null key list: FLUSHALL, or the server dropped its tracking table
                enableTracking(c, near);
            }
        });
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                tracked = false;
                // from when Redis last answered, if that was earlier: a blackholed connection is noticed late, and
                // invalidation pushes may have been lost since
                near.suspend(breaker == null ? clock.millis() : Math.min(clock.millis(), breaker.lastAnswerMillis()));
            }

            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
                if (connection == c) {
                    enableTracking(c, near);
                }
            }
        });
        c.sync().clientTracking(TrackingArgs.Builder.enabled().noloop());
        tracked = true;
        near.activate();
    }

    /** Tracking on again; the L1 is used again at once unless the breaker is not closed yet (then when it closes). */
    private void enableTracking(StatefulRedisConnection<String, byte[]> c, NearCache near) {
        c.async().clientTracking(TrackingArgs.Builder.enabled().noloop()).thenRun(() -> {
            tracked = true;
            if (breaker == null || breaker.closed()) {
                near.activate();
            }
        });
    }

    @Override
    public void close() {
        connection.close();
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        if (clusterClient != null) {
            clusterClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
