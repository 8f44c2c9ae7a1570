package io.lethe.cli.lag;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The region consumers' p99 commit→applied over the last minute, scraped from their {@code /metrics} (with what else lag reads there). */
final class P99Scrape {
    /** lethe.invalidation.latency.recent{quantile="0.99"}: the region consumers' p99 over the last minute. */
    private static final Pattern P99 = Pattern.compile(
            "^lethe_invalidation_latency_recent_seconds\\{[^}]*quantile=\"0\\.99\"[^}]*region=\"([^\"]+)\"[^}]*}\\s+(\\S+)$|"
                    + "^lethe_invalidation_latency_recent_seconds\\{[^}]*region=\"([^\"]+)\"[^}]*quantile=\"0\\.99\"[^}]*}\\s+(\\S+)$");

    private P99Scrape() {
    }

    /** p99 commit→applied in ms per region, from Prometheus text (the timer's 1-minute window). */
    static Map<String, Double> scrape(List<String> urls) {
        Map<String, Double> p99 = new HashMap<>();
        fetch(urls).forEach(body -> p99.putAll(parseP99(body)));
        return p99;
    }

    /** The /metrics body of each URL that answers; a process that is down or elsewhere is left out (its regions show "-"). */
    static List<String> fetch(List<String> urls) {
        List<String> bodies = new ArrayList<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        for (String url : urls) {
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
                        HttpResponse.BodyHandlers.ofString());
                bodies.add(response.body());
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        return bodies;
    }

    static Map<String, Double> parseP99(String prometheusText) {
        Map<String, Double> p99 = new HashMap<>();
        for (String line : prometheusText.split("\n")) {
            Matcher m = P99.matcher(line.trim());
            if (m.matches()) {
                String region = m.group(1) != null ? m.group(1) : m.group(3);
                String value = m.group(2) != null ? m.group(2) : m.group(4);
                p99.put(region, Double.parseDouble(value) * 1000);
            }
        }
        return p99;
    }
}
