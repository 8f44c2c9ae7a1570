package io.lethe.bench.jmh;

import io.lethe.schemas.Headers;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What {@code tracing} costs each record at each stage, as the stages do it: capture's sampling
 * decision (and for a sampled change its span and {@code traceparent}), streams' and a region's
 * read of the header (and for a sampled record a span continuing it, streams also writing its
 * own header). {@code mode}: {@code off} (no tracing.endpoint), {@code unsampled} (tracing on at
 * 1 in 100, a record capture did not sample: the 99%), {@code sampled} (every record traced; spans
 * batched to an exporter that drops them, so the SDK's work is counted, not a network's). Each
 * benchmark includes the record's headers being built, as the stage builds them anyway. Run with:
 * <pre>
 *   ./mvnw -q -DskipTests package -pl benchmarks -am
 *   java -cp "benchmarks/target/lethe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" org.openjdk.jmh.Main Tracing -tu ns -bm avgt
 * </pre>
 */
@State(org.openjdk.jmh.annotations.Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TracingBenchmarks {
    private static final AttributeKey<Long> LSN = AttributeKey.longKey("lethe.lsn");
    private static final byte[] SCHEMA = "lethe.change/v1".getBytes(StandardCharsets.UTF_8);

    @Param({"off", "unsampled", "sampled"})
    public String mode;

    private OpenTelemetrySdk sdk;
    private Tracing tracing;
    /** The record a stage reads: with a sampled traceparent in mode sampled (and off: not even read), none when unsampled. */
    private RecordHeaders incoming;

    @Setup(Level.Trial)
    public void setUp() {
        sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(BatchSpanProcessor.builder(new Dropping()).build()).build()).build();
        tracing = switch (mode) {
            case "off" -> Tracing.OFF;
            case "unsampled" -> Tracing.of(sdk, 0.0); // on, and this record not sampled (the ratio decides only how often)
            default -> Tracing.of(sdk, 1.0);
        };
        incoming = new RecordHeaders();
        incoming.add(Headers.SCHEMA, SCHEMA);
        if (!mode.equals("unsampled")) {
            incoming.add(Headers.TRACEPARENT, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".getBytes(StandardCharsets.UTF_8));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        sdk.close();
    }

    /** Capture: a change's headers, its sampling decision, and if sampled its span (started, attributes, header, ended). */
    @Benchmark
    public RecordHeaders capture() {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Headers.SCHEMA, SCHEMA);
        if (tracing.on() && tracing.sample()) {
            Span span = tracing.startRoot("lethe.capture.publish", SpanKind.PRODUCER);
            span.setAttribute(LSN, 26220112L);
            tracing.inject(span, headers);
            span.setAttribute("messaging.destination.partition.id", 2L);
            span.end();
        }
        return headers;
    }

    /** Streams: the change's traceparent read, and if sampled a span continuing it whose context goes on the invalidation's headers. */
    @Benchmark
    public RecordHeaders streams() {
        RecordHeaders out = new RecordHeaders();
        out.add(Headers.SCHEMA, SCHEMA);
        Context parent = tracing.parent(incoming);
        if (parent != null) {
            Span span = tracing.startChild("lethe.streams.transform", SpanKind.CONSUMER, parent);
            span.setAttribute(LSN, 26220112L);
            tracing.inject(span, out);
            span.end();
        }
        return out;
    }

    /** A region: the invalidation's traceparent read, and if sampled its apply span. */
    @Benchmark
    public Object region() {
        Context parent = tracing.parent(incoming);
        if (parent == null) {
            return incoming;
        }
        Span span = tracing.startChild("lethe.region.apply", SpanKind.CONSUMER, parent);
        span.setAttribute(LSN, 26220112L);
        span.setAttribute("lethe.outcome", "applied");
        span.end();
        return span;
    }

    /** An exporter that takes every batch and drops it. */
    private static final class Dropping implements SpanExporter {
        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }
}
