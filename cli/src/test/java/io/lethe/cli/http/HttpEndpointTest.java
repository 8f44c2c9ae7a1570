package io.lethe.cli.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The health pages' bodies are JSON whatever the component names hold, and say which stage stopped, not why. */
class HttpEndpointTest {
    private final HttpClient client = HttpClient.newHttpClient();
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void healthIsValidJsonForAnyComponentName() throws Exception {
        Map<String, Boolean> health = new LinkedHashMap<>();
        health.put("region:a\"b\\c", true);
        health.put("region:\n</script>", false);
        try (HttpEndpoint http = new HttpEndpoint("127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                () -> health, List::of)) {
            HttpResponse<String> r = get(http, "/health/ready");
            assertEquals(503, r.statusCode());
            JsonNode body = json.readTree(r.body());
            assertEquals("DOWN", body.get("status").asText());
            assertEquals("UP", body.get("components").get("region:a\"b\\c").asText(), r.body());
            assertEquals("DOWN", body.get("components").get("region:\n</script>").asText(), r.body());
        }
    }

    /**
     * Mid-rotation (step 2 here, a region still on step 1's file): /health names the key ids each
     * stage signs with and accepts, and /metrics has them as lethe.signing.key; never a key.
     */
    @Test
    void healthAndMetricsNameTheKeyIdsEachStageSignsWithAndAccepts() throws Exception {
        byte[] oldKey = "the-old-watermark-key-of-32-chars".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] newKey = "the-new-watermark-key-of-32-chars".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String oldId = io.lethe.schemas.SigningKeys.keyId(oldKey);
        String newId = io.lethe.schemas.SigningKeys.keyId(newKey);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        io.lethe.stage.health.SigningKeyIds.register(registry, "streams", io.lethe.schemas.SigningKeys.of(newKey, oldKey), true, true);
        io.lethe.stage.health.SigningKeyIds.register(registry, "region:eu", io.lethe.schemas.SigningKeys.of(oldKey, newKey), false, true);
        io.lethe.stage.health.SigningKeyIds.register(registry, "capture", null, true, false);
        try (HttpEndpoint http = new HttpEndpoint("127.0.0.1", 0, registry, Map::of, List::of)) {
            HttpResponse<String> health = get(http, "/health");
            JsonNode signing = json.readTree(health.body()).get("signing");
            assertEquals(List.of(newId), json.convertValue(signing.get("streams").get("signs"), List.class), health.body());
            assertEquals(java.util.stream.Stream.of(newId, oldId).sorted().toList(),
                    json.convertValue(signing.get("streams").get("accepts"), List.class), health.body());
            assertEquals(null, signing.get("region:eu").get("signs"), "a region signs nothing: " + health.body());
            assertEquals(2, signing.get("region:eu").get("accepts").size(), health.body());
            assertEquals(null, signing.get("capture"), "without a key: nothing to report");
            String metrics = get(http, "/metrics").body();
            assertTrue(metrics.contains("lethe_signing_key{id=\"" + newId + "\",role=\"signs\",stage=\"streams\"} 1.0"), metrics);
            assertTrue(metrics.contains("lethe_signing_key{id=\"" + oldId + "\",role=\"accepts\",stage=\"region:eu\"} 1.0"), metrics);
            assertFalse(health.body().contains("watermark-key-of") || metrics.contains("watermark-key-of"), "never a key");
        }
    }

    @Test
    void livenessNamesTheStoppedComponentsOnly() throws Exception {
        try (HttpEndpoint http = new HttpEndpoint("127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                Map::of, () -> List.of("capture", "region:us-east"))) {
            HttpResponse<String> r = get(http, "/health/live");
            assertEquals(503, r.statusCode());
            JsonNode body = json.readTree(r.body());
            assertEquals("DOWN", body.get("status").asText());
            assertEquals(List.of("capture", "region:us-east"), json.convertValue(body.get("stopped"), List.class));
        }
        try (HttpEndpoint http = new HttpEndpoint("127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                Map::of, List::of)) {
            HttpResponse<String> r = get(http, "/health/live");
            assertEquals(200, r.statusCode());
            assertFalse(json.readTree(r.body()).get("stopped").elements().hasNext(), r.body());
        }
    }

    @Test
    void metricsNegotiateOpenMetricsAndGzip() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("lethe.test.events").increment();
        try (HttpEndpoint http = new HttpEndpoint("127.0.0.1", 0, registry, Map::of, List::of)) {
            HttpResponse<String> plain = get(http, "/metrics");
            assertTrue(plain.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                    plain.headers().toString());
            assertTrue(plain.body().contains("lethe_test_events_total 1.0"), plain.body());
            assertFalse(plain.body().contains("# EOF"), plain.body());

            HttpResponse<byte[]> open = client.send(HttpRequest.newBuilder(URI.create(http.url() + "/metrics"))
                    .header("Accept", "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5")
                    .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals("gzip", open.headers().firstValue("Content-Encoding").orElse(""), open.headers().toString());
            assertTrue(open.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"),
                    open.headers().toString());
            String text = new String(new GZIPInputStream(new ByteArrayInputStream(open.body())).readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains("lethe_test_events_total 1.0") && text.trim().endsWith("# EOF"), text);
        }
    }

    private HttpResponse<String> get(HttpEndpoint http, String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create(http.url() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
