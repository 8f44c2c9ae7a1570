package io.lethe.stage.trace;

import io.lethe.schemas.Headers;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.common.header.Header;

/**
 * W3C trace context on Lethe's records and the spans of each stage ({@code tracing.*} of
 * lethe.yml). Capture decides once, per change, whether it is traced ({@link #sample()}): a
 * sampled change gets a root span and a {@code traceparent} header; streams and the regions
 * continue the trace of a record that carries one ({@link #parent}) and write their own span's
 * context onto what they produce. An unsampled record carries nothing and costs a branch.
 *
 * <p>A header read from a topic is untrusted (anyone with write access wrote it): a malformed,
 * invalid or unsampled {@code traceparent} is ignored, never an error, and only {@code
 * traceparent} is read ({@code tracestate} is not, so no foreign bytes are copied onward: what a
 * stage writes is its own span's context). Spans carry coordinates and counts (namespace,
 * partition, LSN, counts), never keys or row values.
 */
public final class Tracing {
    /** No tracing: {@link #on()} is false, nothing is sampled, read or written. */
    public static final Tracing OFF = new Tracing(OpenTelemetry.noop(), 0, false);

    private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
    /** A traceparent is 55 characters (version 00); anything much longer is not read at all. */
    private static final int MAX_TRACEPARENT_BYTES = 128;

    private final Tracer tracer;
    private final double ratio;
    private final boolean on;

    private Tracing(OpenTelemetry openTelemetry, double ratio, boolean on) {
        this.tracer = openTelemetry.getTracer("io.lethe");
        this.ratio = ratio;
        this.on = on;
    }

    /** Tracing with {@code openTelemetry}'s tracer; capture samples {@code sampleRatio} of the changes. */
    public static Tracing of(OpenTelemetry openTelemetry, double sampleRatio) {
        if (!(sampleRatio >= 0 && sampleRatio <= 1)) {
            throw new IllegalArgumentException("sample ratio must be from 0 to 1, found " + sampleRatio);
        }
        return new Tracing(openTelemetry, sampleRatio, true);
    }

    public boolean on() {
        return on;
    }

    /** Capture: whether this change is traced (decided here, once; the other stages follow its header). */
    public boolean sample() {
        return on && ratio > 0 && (ratio >= 1 || ThreadLocalRandom.current().nextDouble() < ratio);
    }

    /** A new trace's first span (capture's, for a sampled change). */
    public Span startRoot(String name, SpanKind kind) {
        return tracer.spanBuilder(name).setNoParent().setSpanKind(kind).startSpan();
    }

    /** A span continuing {@code parent} (from {@link #parent}). */
    public Span startChild(String name, SpanKind kind, Context parent) {
        SpanBuilder builder = tracer.spanBuilder(name).setParent(parent).setSpanKind(kind);
        return builder.startSpan();
    }

    /**
     * The trace a record continues: the context of its {@code traceparent} header when tracing is
     * on and the header is present, well-formed and sampled; otherwise null. Never throws.
     */
    public Context parent(org.apache.kafka.common.header.Headers headers) {
        if (!on || headers == null) {
            return null;
        }
        try {
            Header header = headers.lastHeader(Headers.TRACEPARENT);
            if (header == null || header.value() == null || header.value().length > MAX_TRACEPARENT_BYTES) {
                return null;
            }
            Context context = W3C.extract(Context.root(), header, TRACEPARENT_ONLY);
            SpanContext span = Span.fromContext(context).getSpanContext();
            return span.isValid() && span.isRemote() && span.isSampled() ? context : null;
        } catch (RuntimeException e) {
            return null; // untrusted input: whatever it is, the record is handled as untraced
        }
    }

    /** Writes {@code span}'s context as the record's {@code traceparent} (replacing any). */
    public void inject(Span span, org.apache.kafka.common.header.Headers headers) {
        headers.remove(Headers.TRACEPARENT);
        headers.remove("tracestate");
        W3C.inject(Context.root().with(span), headers, SETTER);
    }

    /** {@code traceparent} of the one header given as carrier; nothing else (no {@code tracestate}). */
    private static final TextMapGetter<Header> TRACEPARENT_ONLY = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Header carrier) {
            return List.of(Headers.TRACEPARENT);
        }

        @Override
        public String get(Header carrier, String key) {
            return carrier != null && Headers.TRACEPARENT.equals(key) ? new String(carrier.value(), StandardCharsets.UTF_8) : null;
        }
    };

    private static final TextMapSetter<org.apache.kafka.common.header.Headers> SETTER = (headers, key, value) -> {
        if (headers != null && Headers.TRACEPARENT.equals(key)) {
            headers.add(key, value.getBytes(StandardCharsets.UTF_8));
        }
    };
}
