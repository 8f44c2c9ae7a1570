package io.lethe.dev.verify;

import io.lethe.cli.Lethe;
import io.lethe.embedded.ChildJvm;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every Lethe stage of the verify run in a process of its own ({@code lethe run --role ...}); also the explorer's stages when it kills them. */
public final class Stages implements AutoCloseable {
    private static final List<String> JVM = List.of("-Xmx384m", "-XX:+UseSerialGC");
    private final Path config;
    private final Path logs;
    private final Map<String, ChildJvm> running = new LinkedHashMap<>();
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private int generation;

    public Stages(Path config, Path logs, List<String> roles) {
        this.config = config;
        this.logs = logs;
        roles.forEach(r -> ports.put(r, freePort()));
    }

    List<String> roles() {
        return List.copyOf(ports.keySet());
    }

    int port(String role) {
        return ports.get(role);
    }

    /** Starts the stage and waits until its /health says UP. */
    public void start(String role) throws InterruptedException {
        launch(role);
        awaitHealthy(role, Duration.ofSeconds(180));
    }

    /**
     * Starts every stage, then waits until each one's /health says UP: the processes start side by
     * side (each stage creates the topics it needs and waits for what it reads), not one JVM start-up
     * after the other.
     */
    public void startAll() throws InterruptedException {
        for (String role : ports.keySet()) {
            launch(role);
        }
        for (String role : ports.keySet()) {
            awaitHealthy(role, Duration.ofSeconds(180));
        }
    }

    private void launch(String role) {
        String file = role.replace(':', '-') + "-" + (++generation) + ".log";
        ChildJvm jvm = ChildJvm.start(role, Lethe.class.getName(),
                List.of("run", "--config", config.toString(), "--role", role, "--http-port", Integer.toString(ports.get(role))),
                JVM, logs.resolve(file));
        running.put(role, jvm);
    }

    /** SIGKILL: nothing is flushed, committed or closed. */
    public void kill(String role) {
        ChildJvm jvm = running.remove(role);
        if (jvm != null) {
            jvm.kill();
        }
    }

    /** SIGTERM, and SIGKILL after 10 s: the stage closes what it can. */
    public void stop(String role) {
        ChildJvm jvm = running.remove(role);
        if (jvm != null) {
            jvm.stop(Duration.ofSeconds(10));
        }
    }

    public boolean isRunning(String role) {
        ChildJvm jvm = running.get(role);
        return jvm != null && jvm.isAlive();
    }

    void awaitHealthy(String role, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ChildJvm jvm = running.get(role);
        while (!healthy(role)) {
            if (jvm == null || !jvm.isAlive()) {
                throw new IllegalStateException(role + " exited:\n" + (jvm == null ? "" : jvm.tail(40)));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(role + " not healthy after " + timeout + ":\n" + jvm.tail(40));
            }
            Thread.sleep(200);
        }
    }

    boolean healthy(String role) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(role) + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    String metrics(String role) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get(role) + "/metrics"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port on 127.0.0.1", e);
        }
    }

    @Override
    public void close() {
        running.values().forEach(j -> j.stop(Duration.ofSeconds(10)));
        running.clear();
    }
}
