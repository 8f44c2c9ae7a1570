package io.lethe.embedded;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis of each region of an {@link EmbeddedStack}, and the faults tests inject into them:
 * paused, restarted from a snapshot, killed, started again on the same port and data directory.
 */
final class RegionRedisServers {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedStack.class);

    private final Path workDir;
    private final Path cacheDir;
    private final Map<String, EmbeddedRedisServer> redis = new LinkedHashMap<>();

    /**
     * @param workDir  the stack's work directory (each region's data goes under {@code redis/<region>})
     * @param cacheDir where the Redis binary is unpacked
     */
    RegionRedisServers(Path workDir, Path cacheDir) {
        this.workDir = workDir;
        this.cacheDir = cacheDir;
    }

    /** Starts the region's Redis on a free port. */
    void start(String region, StartTimes times) {
        redis.put(region, times.timed("redis:" + region, () -> EmbeddedRedisServer.start(region, dataDir(region), cacheDir, List.of())));
    }

    List<String> regions() {
        return List.copyOf(redis.keySet());
    }

    Map<String, EmbeddedRedisServer> byRegion() {
        return redis;
    }

    Collection<EmbeddedRedisServer> servers() {
        return redis.values();
    }

    EmbeddedRedisServer server(String region) {
        EmbeddedRedisServer server = redis.get(region);
        if (server == null) {
            throw new IllegalArgumentException("no Redis for region '" + region + "'; regions: " + redis.keySet());
        }
        return server;
    }

    /**
     * Restarts a region's Redis on the same port and data directory, as after a crash or a
     * reboot: it loads whatever snapshot ({@code dump.rdb}, written by {@code SAVE}/{@code BGSAVE})
     * is there, so a test can bring a cache back from an old snapshot. A server already shut down
     * (e.g. by {@code SHUTDOWN NOSAVE}) is just started again.
     */
    void restart(String region) {
        EmbeddedRedisServer old = server(region);
        try {
            old.close();
        } catch (RuntimeException e) {
            LOG.debug("Redis {} was already down: {}", region, e.toString());
        }
        redis.put(region, EmbeddedRedisServer.start(region, dataDir(region), cacheDir, old.port(), List.of()));
    }

    /**
     * {@code kill -9} of a region's Redis by its PID, left down (connections refused) until
     * {@link #start(String, List)}: an outage, as when its host is lost.
     */
    void kill(String region) {
        EmbeddedRedisServer old = server(region);
        old.crash();
        try {
            old.close();
        } catch (RuntimeException e) {
            LOG.debug("Redis {} was already gone: {}", region, e.toString());
        }
    }

    /**
     * Starts a region's Redis stopped by {@link #kill} again, on the same port and data
     * directory, with {@code settings} added; it loads whatever snapshot is there (none unless a
     * test saved one: the embedded Redis runs with {@code save ""}).
     */
    void start(String region, List<String> settings) {
        EmbeddedRedisServer old = server(region);
        for (int attempt = 1;; attempt++) {
            try {
                redis.put(region, EmbeddedRedisServer.start(region, dataDir(region), cacheDir, old.port(), settings));
                return;
            } catch (UncheckedIOException e) {
                if (attempt == 20) {
                    throw e;
                }
                try {
                    Thread.sleep(250); // the killed process may still hold the port for a moment
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private Path dataDir(String region) {
        return workDir.resolve("redis").resolve(region);
    }
}
