package io.lethe.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where metrics go besides {@code /metrics} (Prometheus): an OpenTelemetry collector over OTLP/HTTP.
 *
 * @param otlpEndpoint the collector's OTLP/HTTP metrics URL ({@code http(s)://host:4318/v1/metrics}); null: no OTLP export
 * @param otlpInterval how often meters are pushed (the step of their deltas and rates)
 * @param otlpHeaders  headers of every push (e.g. an {@code Authorization} token from {@code ${ENV}}); secrets, never logged
 */
public record MetricsConfig(String otlpEndpoint, Duration otlpInterval, Map<String, Secret> otlpHeaders) {
    public static final MetricsConfig NONE = new MetricsConfig(null, Defaults.OTLP_INTERVAL, Map.of());

    public MetricsConfig {
        otlpHeaders = Collections.unmodifiableMap(new LinkedHashMap<>(otlpHeaders));
    }

    public boolean otlpEnabled() {
        return otlpEndpoint != null;
    }
}
