package io.lethe.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * W3C trace context from capture to the region apply: capture samples 1 change in
 * {@code 1/sampleRatio}, gives it a {@code traceparent} header, and every stage that handles it
 * (capture's publish, streams' transform, each region's apply) records a span of that trace,
 * exported to an OpenTelemetry collector over OTLP/HTTP. Off without an endpoint.
 *
 * @param endpoint    the collector's OTLP/HTTP traces URL ({@code http(s)://host:4318/v1/traces}); null: no tracing
 * @param sampleRatio the share of changes capture traces, in [0, 1]; decided once, at capture
 * @param headers     headers of every export (e.g. an {@code Authorization} token from {@code ${ENV}}); secrets, never logged
 */
public record TracingConfig(String endpoint, double sampleRatio, Map<String, Secret> headers) {
    public static final TracingConfig NONE = new TracingConfig(null, Defaults.TRACE_SAMPLE_RATIO, Map.of());

    public TracingConfig {
        headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    public boolean enabled() {
        return endpoint != null;
    }

    @Override
    public String toString() {
        return "TracingConfig[endpoint=" + endpoint + ", sampleRatio=" + sampleRatio + ", headers=" + headers.keySet() + "]";
    }
}
