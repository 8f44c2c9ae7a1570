package io.lethe.cli.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.lethe.stage.health.SigningKeyIds;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
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
import java.util.zip.GZIPOutputStream;

/**
 * The HTTP port of every Lethe process: {@code /metrics} (Prometheus text from Micrometer),
 * {@code /health/ready} (and {@code /health}: 200 when every component is healthy, else 503, with
 * a JSON body; a stage waiting for a server it needs is alive but not ready; {@code signing}: the key
 * ids each stage signs with and accepts, {@link SigningKeyIds}), {@code /health/live}
 * (200 unless a stage stopped by itself: then only a restart helps; 503 names it), and any extra
 * pages a command adds (the demo's status page).
 */
public final class HttpEndpoint implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    private final HttpServer server;

    /**
     * @param health   component name to healthy (readiness)
     * @param stoppedComponents the components that stopped by themselves, by name only (liveness; why
     *                          is in the log: an exception's message is not for every client of the port)
     */
    public HttpEndpoint(String host, int port, PrometheusMeterRegistry registry, Supplier<Map<String, Boolean>> health,
            Supplier<List<String>> stoppedComponents) {
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
        server.createContext("/metrics", ex -> {
            // OpenMetrics when the scraper asks for it (Prometheus does, first), else Prometheus text
            String accept = ex.getRequestHeaders().getFirst("Accept");
            String type = accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS : PROMETHEUS_TEXT;
            respond(ex, 200, type, registry.scrape(type));
        });
        server.createContext("/health/live", ex -> {
            List<String> stopped = stoppedComponents.get();
            ObjectNode body = JSON.createObjectNode().put("status", stopped.isEmpty() ? "UP" : "DOWN");
            stopped.forEach(body.putArray("stopped")::add);
            respond(ex, stopped.isEmpty() ? 200 : 503, "application/json", JSON.writeValueAsString(body));
        });
        // /health/ready and /health (the name it always had) are the same readiness
        server.createContext("/health", ex -> {
            Map<String, Boolean> components = new LinkedHashMap<>(health.get());
            boolean up = components.values().stream().allMatch(Boolean::booleanValue);
            ObjectNode body = JSON.createObjectNode().put("status", up ? "UP" : "DOWN");
            ObjectNode each = body.putObject("components");
            components.forEach((name, healthy) -> each.put(name, healthy ? "UP" : "DOWN"));
            // which key each stage here signs with and accepts, by id: which step of a key rotation it runs
            Map<String, Map<String, List<String>>> signing = SigningKeyIds.byStage(registry);
            if (!signing.isEmpty()) {
                body.set("signing", JSON.valueToTree(signing));
            }
            respond(ex, up ? 200 : 503, "application/json", JSON.writeValueAsString(body));
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

    /** Sends {@code body}, gzipped when the client accepts it (a scrape of many regions' metrics is large). */
    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        String encodings = ex.getRequestHeaders().getFirst("Accept-Encoding");
        if (encodings != null && encodings.contains("gzip")) {
            ByteArrayOutputStream zipped = new ByteArrayOutputStream(bytes.length / 4 + 64);
            try (GZIPOutputStream gzip = new GZIPOutputStream(zipped)) {
                gzip.write(bytes);
            }
            bytes = zipped.toByteArray();
            ex.getResponseHeaders().set("Content-Encoding", "gzip");
        }
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
