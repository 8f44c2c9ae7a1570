package io.lethe.cli.trace;

import io.lethe.config.TracingConfig;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporterBuilder;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tracing of a process ({@code tracing.*} of lethe.yml): without an endpoint {@link Tracing#OFF};
 * with one, an OpenTelemetry SDK whose spans are batched and exported to the collector over
 * OTLP/HTTP (protobuf), with the configured headers. Capture decides which changes are traced
 * ({@code tracing.sample-ratio}); the SDK records every span a stage starts (its sampler
 * follows the parent, and capture starts root spans only for sampled changes). Nothing is read
 * from {@code OTEL_*} variables or system properties: lethe.yml is the one configuration.
 * Closing exports what is left.
 */
public final class TracingExport implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TracingExport.class);

    private final OpenTelemetrySdk sdk;
    private final Tracing tracing;

    private TracingExport(OpenTelemetrySdk sdk, Tracing tracing) {
        this.sdk = sdk;
        this.tracing = tracing;
    }

    public static TracingExport start(TracingConfig config) {
        if (!config.enabled()) {
            return new TracingExport(null, Tracing.OFF);
        }
        OtlpHttpSpanExporterBuilder exporter = OtlpHttpSpanExporter.builder().setEndpoint(config.endpoint());
        config.headers().forEach((name, value) -> exporter.addHeader(name, value.reveal()));
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.create(Attributes.of(io.opentelemetry.api.common.AttributeKey.stringKey("service.name"), "lethe")))
                .setSampler(Sampler.parentBased(Sampler.alwaysOn()))
                .addSpanProcessor(BatchSpanProcessor.builder(exporter.build()).build())
                .build();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(provider).build();
        // the URL only: headers carry credentials
        LOG.info("tracing {} of changes to {} (OTLP/HTTP)", config.sampleRatio(), config.endpoint());
        return new TracingExport(sdk, Tracing.of(sdk, config.sampleRatio()));
    }

    /** What the stages trace with: {@link Tracing#OFF} without {@code tracing.endpoint}. */
    public Tracing tracing() {
        return tracing;
    }

    @Override
    public void close() {
        if (sdk != null) {
            sdk.getSdkTracerProvider().shutdown().join(10, TimeUnit.SECONDS); // exports what is left
        }
    }
}
