package io.lethe.cli.metrics;

import io.lethe.config.MetricsConfig;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.registry.otlp.OtlpConfig;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meter registries of a process: Prometheus for {@code /metrics}, always, and with
 * {@code metrics.otlp.endpoint} also an OTLP registry that pushes every meter to an OpenTelemetry
 * collector (OTLP/HTTP, protobuf). The stages register their meters on {@link #registry()}, which
 * feeds both; closing pushes a last time.
 */
public final class MetricsExport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsExport.class);

    private final PrometheusMeterRegistry prometheus;
    private final OtlpMeterRegistry otlp;
    private final MeterRegistry registry;

    private MetricsExport(PrometheusMeterRegistry prometheus, OtlpMeterRegistry otlp) {
        this.prometheus = prometheus;
        this.otlp = otlp;
        if (otlp == null) {
            this.registry = prometheus;
        } else {
            CompositeMeterRegistry composite = new CompositeMeterRegistry();
            composite.add(prometheus);
            composite.add(otlp);
            this.registry = composite;
        }
    }

    /** The registries {@code metrics} asks for; the OTLP one (if any) is pushing from now on. */
    public static MetricsExport start(MetricsConfig metrics) {
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        if (!metrics.otlpEnabled()) {
            return new MetricsExport(prometheus, null);
        }
        OtlpMeterRegistry otlp = new OtlpMeterRegistry(otlpConfig(metrics), Clock.SYSTEM);
        // the URL only: headers carry credentials
        LOG.info("pushing metrics to {} every {} (OTLP/HTTP)", metrics.otlpEndpoint(), metrics.otlpInterval());
        return new MetricsExport(prometheus, otlp);
    }

    static OtlpConfig otlpConfig(MetricsConfig metrics) {
        Map<String, String> headers = new LinkedHashMap<>();
        metrics.otlpHeaders().forEach((name, value) -> headers.put(name, value.reveal()));
        String url = metrics.otlpEndpoint();
        Duration step = metrics.otlpInterval();
        return new OtlpConfig() {
            @Override
            public String get(String key) {
                return null; // every setting below; nothing from system properties or OTEL_* variables
            }

            @Override
            public String url() {
                return url;
            }

            @Override
            public Duration step() {
                return step;
            }

            @Override
            public Map<String, String> headers() {
                return headers;
            }

            @Override
            public Map<String, String> resourceAttributes() {
                return Map.of("service.name", "lethe");
            }
        };
    }

    /** Where the stages register their meters: both registries when OTLP is on. */
    public MeterRegistry registry() {
        return registry;
    }

    /** What {@code /metrics} serves. */
    public PrometheusMeterRegistry prometheus() {
        return prometheus;
    }

    @Override
    public void close() {
        if (otlp != null) {
            otlp.close(); // a last push
        }
        prometheus.close();
    }
}
