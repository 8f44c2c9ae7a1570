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
 * own header). {@code mode}: {@code off} (no tracing.endpoint), {@code 1%} (the default
 * sample-ratio: capture samples 1 change in 100, and 1 record in 100 that streams and a region read
 * carries a traceparent; so the score is the average per record), {@code 100%} (every record
 * traced). Spans are batched to an exporter that drops them, so the SDK's work is counted, not a
 * network's. Only
 * tracing's own work is measured: the headers a stage builds anyway are reused. Run with:
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

    @Param({"off", "1%", "100%"})
    public String mode;

    private OpenTelemetrySdk sdk;
    private Tracing tracing;
    private RecordHeaders traced;
    private RecordHeaders untraced;
    private int every;
    private int count;
    /** The headers a stage writes (built by the stage anyway: reused here, so only tracing's own work is measured). */
    private RecordHeaders outgoing;

    @Setup(Level.Trial)
    public void setUp() {
        sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(BatchSpanProcessor.builder(new Dropping()).build()).build()).build();
        tracing = switch (mode) {
            case "off" -> Tracing.OFF;
            case "1%" -> Tracing.of(sdk, 0.01);
            default -> Tracing.of(sdk, 1.0);
        };
        outgoing = new RecordHeaders();
        outgoing.add(Headers.SCHEMA, SCHEMA);
        traced = new RecordHeaders();
        traced.add(Headers.SCHEMA, SCHEMA);
        traced.add(Headers.TRACEPARENT, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".getBytes(StandardCharsets.UTF_8));
        untraced = new RecordHeaders();
        untraced.add(Headers.SCHEMA, SCHEMA);
        every = mode.equals("1%") ? 100 : 1;
    }

    /** The next record a stage reads: at 1%, one in a hundred carries capture's traceparent; at 100% (and off: not even read) all do. */
    private RecordHeaders incoming() {
        return ++count % every == 0 ? traced : untraced;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        sdk.close();
    }

    /** Capture: a change's sampling decision, and if sampled its span (started, attributes, header, ended). */
    @Benchmark
    public RecordHeaders capture() {
        RecordHeaders headers = outgoing;
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
        RecordHeaders out = outgoing;
        Context parent = tracing.parent(incoming());
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
        Context parent = tracing.parent(incoming());
        if (parent == null) {
            return null;
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
