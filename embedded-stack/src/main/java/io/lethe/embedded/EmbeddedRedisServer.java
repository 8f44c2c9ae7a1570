package io.lethe.embedded;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import redis.embedded.RedisServer;
import redis.embedded.core.ExecutableProvider;

/**
 * A real Redis server (the binary shipped by embedded-redis), bound to 127.0.0.1 only, without
 * persistence, with its files in its own directory.
 */
final class EmbeddedRedisServer implements AutoCloseable {
    private final String name;
    private final int port;
    private final RedisServer server;
    private long pid;
    private boolean paused;

    private EmbeddedRedisServer(String name, int port, RedisServer server) {
        this.name = name;
        this.port = port;
        this.server = server;
    }

    /**
     * Starts on a free port, trying another one when the probed port was taken in the meantime
     * (another process may bind it between the probe and the server's start).
     */
    static EmbeddedRedisServer start(String name, Path dir, Path binaries, List<String> extraSettings) {
        UncheckedIOException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                return start(name, dir, binaries, FreePorts.next(), extraSettings);
            } catch (UncheckedIOException e) {
                last = e;
            }
        }
        throw last;
    }

    static EmbeddedRedisServer start(String name, Path dir, Path binaries, int port, List<String> extraSettings) {
        try {
            Files.createDirectories(dir);
            Files.createDirectories(binaries);
            var builder = RedisServer.newRedisServer()
                    .executableProvider(ExecutableProvider.newJarResourceProvider(binaries.toFile()))
                    .port(port)
                    .bind("127.0.0.1")
                    .setting("dir " + dir)
                    .setting("save \"\"")
                    .setting("appendonly no")
                    .setting("protected-mode yes")
                    .onShutdownForceStop(true);
            for (String setting : extraSettings) {
                builder.setting(setting);
            }
            RedisServer server = builder.build();
            server.start();
            EmbeddedRedisServer redis = new EmbeddedRedisServer(name, port, server);
            redis.pid = redis.readPid();
            return redis;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Redis '" + name + "' in " + dir, e);
        }
    }

    String name() {
        return name;
    }

    int port() {
        return port;
    }

    String uri() {
        return "redis://127.0.0.1:" + port;
    }

    private long readPid() {
        RedisClient client = RedisClient.create(RedisURI.builder().withHost("127.0.0.1").withPort(port)
                .withTimeout(Duration.ofSeconds(5)).build());
        try (StatefulRedisConnection<String, String> c = client.connect()) {
            for (String line : c.sync().info("server").split("\r?\n")) {
                if (line.startsWith("process_id:")) {
                    return Long.parseLong(line.substring("process_id:".length()).trim());
                }
            }
            throw new IllegalStateException("Redis '" + name + "' did not report its process_id");
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /** Freezes the process (SIGSTOP): connections stay open, nothing is answered. */
    synchronized void pause() {
        signal("STOP");
        paused = true;
    }

    synchronized void resume() {
        signal("CONT");
        paused = false;
    }

    /** SIGKILL: nothing is saved or flushed beyond what the server had already written. */
    synchronized void crash() {
        signal("KILL");
        paused = false;
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
            if (kill.waitFor() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid + " failed for Redis '" + name + "'");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            if (paused) {
                resume();
            }
            server.stop();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop Redis '" + name + "'", e);
        }
    }
}
