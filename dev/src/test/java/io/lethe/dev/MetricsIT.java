package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cli.http.HttpEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the pipeline, scrapes its /metrics, and checks that every metric the Grafana dashboard
 * and the Prometheus alert rules use is exported: the names are read from those files.
 */
@ExtendWith(LetheStackExtension.class)
class MetricsIT {
    private static final Pattern METRIC = Pattern.compile("\\blethe_[a-z0-9_]+");

    static Set<String> namesUsedIn(Path... files) throws Exception {
        Set<String> names = new TreeSet<>();
        for (Path file : files) {
            Matcher m = METRIC.matcher(Files.readString(file));
            while (m.find()) {
                names.add(m.group());
            }
        }
        return names;
    }

    @Test
    void everyMetricOfTheDashboardAndAlertRulesIsExported(LetheStack stack, TestScope scope) throws Exception {
        Path docker = Path.of("..", "docker");
        Set<String> used = namesUsedIn(docker.resolve("grafana/dashboards/lethe.json"), docker.resolve("prometheus/rules.yml"));
        assertTrue(used.size() >= 6, "the files name the metrics: " + used);
        try (PipelineFixture f = new PipelineFixture(stack, scope).sweep("{}")) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY)", "INSERT INTO products VALUES (1)");
            LetheConfig config = f.config(f.yaml(List.of("us-east"), "product: { table: public.products, keys: [\""
                    + scope.keyPrefix() + "product:{id}\"] }", ""));
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            try (Pipeline pipeline = Pipeline.start(config, Roles.all(config), registry, Clock.systemUTC());
                    HttpEndpoint http = new HttpEndpoint("127.0.0.1", 0, registry, pipeline::health, pipeline::stopped);
                    // the cache-client's meters (lethe_cache_*) are the application's: it exports them with its
                    // own registry, here the same one; they exist as soon as the namespace does
                    io.lethe.cache.LetheCache cache = io.lethe.cache.LetheCache.builder(stack.redisUri("us-east"))
                            .meterRegistry(registry).build()) {
                cache.namespace("product", io.lethe.cache.Codecs.utf8(), io.lethe.cache.Policy.eventual());
                f.sql("UPDATE products SET id = 1 WHERE id = 1");
                Await.until("the change is applied", Duration.ofSeconds(60),
                        () -> f.redis("us-east").exists(RedisLayout.fenceKey(scope.key("product:1"))) == 1);
                HttpClient client = HttpClient.newHttpClient();
                String metrics = client.send(HttpRequest.newBuilder(URI.create(http.url() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                Set<String> exported = new TreeSet<>();
                metrics.lines().filter(l -> !l.startsWith("#")).forEach(l -> {
                    Matcher m = METRIC.matcher(l);
                    if (m.lookingAt()) {
                        exported.add(m.group());
                    }
                });
                Set<String> missing = new TreeSet<>(used);
                missing.removeAll(exported);
                assertTrue(missing.isEmpty(), "named in docker/ but not exported: " + missing + "\nexported: " + exported);
                assertTrue(metrics.contains("lethe_invalidation_latency_recent_seconds{quantile=\"0.99\",region=\"us-east\"}"), metrics);

                HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create(http.url() + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, health.statusCode(), health.body());
                assertTrue(health.body().contains("\"capture\":\"UP\"") && health.body().contains("\"region:us-east\":\"UP\""),
                        health.body());
                for (String probe : List.of("/health/ready", "/health/live")) {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(http.url() + probe)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode(), probe + ": " + r.body());
                    assertTrue(r.body().startsWith("{\"status\":\"UP\""), probe + ": " + r.body());
                }
            }
        }
    }
}
