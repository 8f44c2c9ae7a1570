package io.lethe.cli.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code tracing.endpoint}: spans reach an OpenTelemetry collector as OTLP/HTTP protobuf POSTs
 * with the configured headers (values from the environment, never in toString); without an
 * endpoint there is no SDK at all. The collector is a tiny HTTP server on 127.0.0.1.
 */
class TracingExportIT {
    private record Post(String path, String contentType, String authorization, byte[] body) {
    }

    private static final String CONFIG = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
            namespaces: { product: { table: public.products, keys: ["product:{id}"] } }
            """;

    @Test
    void withoutAnEndpointNothingIsTraced() {
        try (TracingExport export = TracingExport.start(ConfigLoader.parse("lethe.yml", CONFIG, n -> null).tracing())) {
            assertSame(Tracing.OFF, export.tracing());
        }
    }

    @Test
    void spansArePostedToTheCollectorWithTheConfiguredHeaders() throws Exception {
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
            String yaml = CONFIG + """
                    tracing:
                      endpoint: http://127.0.0.1:%d/v1/traces
                      sample-ratio: 1
                      headers: { Authorization: "Bearer ${OTLP_TOKEN}" }
                    """.formatted(collector.getAddress().getPort());
            LetheConfig config = ConfigLoader.parse("lethe.yml", yaml, Map.of("OTLP_TOKEN", "t0k3n")::get);
            assertFalse(config.tracing().toString().contains("t0k3n"), "the header's value is a secret: " + config.tracing());
            try (TracingExport export = TracingExport.start(config.tracing())) {
                Tracing tracing = export.tracing();
                assertTrue(tracing.sample(), "sample-ratio 1 traces every change");
                Span span = tracing.startRoot("lethe.capture.publish", SpanKind.PRODUCER);
                span.end();
            } // closing exports what is left
            Post post = posts.poll(30, TimeUnit.SECONDS);
            assertTrue(post != null, "a POST reached the collector");
            assertEquals("/v1/traces", post.path());
            assertEquals("application/x-protobuf", post.contentType());
            assertEquals("Bearer t0k3n", post.authorization());
            ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(post.body());
            var resource = request.getResourceSpans(0);
            assertTrue(resource.getResource().getAttributesList().stream()
                    .anyMatch(a -> a.getKey().equals("service.name") && a.getValue().getStringValue().equals("lethe")));
            assertEquals("lethe.capture.publish", resource.getScopeSpans(0).getSpans(0).getName());
        } finally {
            collector.stop(0);
        }
    }
}
