package io.lethe.cli.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The HTTP port of every Lethe process: {@code /metrics} (Prometheus text from Micrometer),
 * {@code /health/ready} (and {@code /health}: 200 when every component is healthy, else 503, with
 * a JSON body; a stage waiting for a server it needs is alive but not ready), {@code /health/live}
 * (200 unless a stage stopped by itself: then only a restart helps; 503 names it), and any extra
 * pages a command adds (the demo's status page).
 */
public final class HttpEndpoint implements AutoCloseable {
    private final HttpServer server;

    /**
     * @param health   component name to healthy (readiness)
     * @param failures the stages that stopped by themselves, each with why; empty while all run (liveness)
     */
    public HttpEndpoint(String host, int port, PrometheusMeterRegistry registry, Supplier<Map<String, Boolean>> health,
                        Supplier<List<String>> failures) {
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + host + ":" + port, e);
        }
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "lethe-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
        server.createContext("/health/live", ex -> {
            List<String> stopped = failures.get();
            StringBuilder json = new StringBuilder("{\"status\":\"").append(stopped.isEmpty() ? "UP" : "DOWN").append("\",\"stopped\":[");
            for (int i = 0; i < stopped.size(); i++) {
                json.append(i == 0 ? "" : ",").append('"').append(stopped.get(i).replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            }
            respond(ex, stopped.isEmpty() ? 200 : 503, "application/json", json.append("]}").toString());
        });
        // /health/ready and /health (the name it always had) are the same readiness
        server.createContext("/health", ex -> {
            Map<String, Boolean> components = new LinkedHashMap<>(health.get());
            boolean up = components.values().stream().allMatch(Boolean::booleanValue);
            StringBuilder json = new StringBuilder("{\"status\":\"").append(up ? "UP" : "DOWN").append("\",\"components\":{");
            boolean first = true;
            for (Map.Entry<String, Boolean> e : components.entrySet()) {
                json.append(first ? "" : ",").append('"').append(e.getKey()).append("\":\"").append(e.getValue() ? "UP" : "DOWN").append('"');
                first = false;
            }
            json.append("}}");
            respond(ex, up ? 200 : 503, "application/json", json.toString());
        });
        server.start();
    }

    /** Adds a page served by {@code body} with the given content type. */
    public void page(String path, String contentType, Supplier<String> body) {
        server.createContext(path, ex -> respond(ex, 200, contentType, body.get()));
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url() {
        return "http://" + server.getAddress().getHostString() + ":" + port();
    }

    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
