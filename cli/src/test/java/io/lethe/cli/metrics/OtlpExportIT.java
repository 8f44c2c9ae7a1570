package io.lethe.cli.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code metrics.otlp}: besides {@code /metrics}, every meter a stage registers is pushed to an
 * OpenTelemetry collector as an OTLP/HTTP protobuf POST with the configured headers (their values
 * from the environment). The collector here is a tiny HTTP server on 127.0.0.1 that keeps each POST.
 */
class OtlpExportIT {
    private record Post(String path, String contentType, String authorization, byte[] body) {
    }

    @Test
    void everyMeterIsPushedToTheCollectorWithTheConfiguredHeaders() throws Exception {
        BlockingQueue<Post> posts = new LinkedBlockingQueue<>();
        HttpServer collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        collector.createContext("/", exchange -> {
            posts.add(new Post(exchange.getRequestURI().getPath(), exchange.getRequestHeaders().getFirst("Content-Type"),
                    exchange.getRequestHeaders().getFirst("Authorization"), exchange.getRequestBody().readAllBytes()));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        try {
            String yaml = """
                    source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
                    kafka: { bootstrap-servers: "127.0.0.1:9092" }
                    regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
                    namespaces: { product: { table: public.products, keys: ["product:{id}"] } }
                    metrics:
                      otlp:
                        endpoint: http://127.0.0.1:%d/v1/metrics
                        interval: 1s
                        headers: { Authorization: "Bearer ${OTLP_TOKEN}" }
                    """.formatted(collector.getAddress().getPort());
            LetheConfig config = ConfigLoader.parse("lethe.yml", yaml, Map.of("OTLP_TOKEN", "t0k3n")::get);
            assertFalse(config.metrics().toString().contains("t0k3n"), "the header's value is a secret: " + config.metrics());
            try (MetricsExport export = MetricsExport.start(config.metrics())) {
                // a meter Lethe registers in every process (Pipeline.start announces it)
                io.lethe.stage.faults.FaultInjection.announce(export.registry());
                assertTrue(export.prometheus().scrape().contains("lethe_fault_injection_active"), "still on /metrics");
                Post post = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (System.nanoTime() < deadline) {
                    Post p = posts.poll(1, TimeUnit.SECONDS);
                    if (p != null && names(p).contains("lethe.fault.injection.active")) {
                        post = p;
                        break;
                    }
                }
                assertTrue(post != null, "a push with lethe.fault.injection.active reached the collector");
                assertEquals("/v1/metrics", post.path());
                assertEquals("application/x-protobuf", post.contentType());
                assertEquals("Bearer t0k3n", post.authorization());
                ExportMetricsServiceRequest request = ExportMetricsServiceRequest.parseFrom(post.body());
                assertTrue(request.getResourceMetrics(0).getResource().getAttributesList().stream()
                        .anyMatch(a -> a.getKey().equals("service.name") && a.getValue().getStringValue().equals("lethe")));
            }
        } finally {
            collector.stop(0);
        }
    }

    private static List<String> names(Post post) throws Exception {
        return ExportMetricsServiceRequest.parseFrom(post.body()).getResourceMetricsList().stream()
                .flatMap(r -> r.getScopeMetricsList().stream()).flatMap(s -> s.getMetricsList().stream())
                .map(io.opentelemetry.proto.metrics.v1.Metric::getName).toList();
    }
}
