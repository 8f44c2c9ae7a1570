package io.lethe.stage.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.Headers;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TracingTest {
    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();

    @AfterEach
    void close() {
        sdk.close();
    }

    private static RecordHeaders traceparent(byte[] value) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Headers.TRACEPARENT, value);
        return headers;
    }

    @Test
    void aSampledRecordsHeaderContinuesItsTraceAndTheNextStageWritesItsOwnSpan() {
        Tracing tracing = Tracing.of(sdk, 1.0);
        assertTrue(tracing.sample());
        Span capture = tracing.startRoot("capture", SpanKind.PRODUCER);
        RecordHeaders change = new RecordHeaders();
        tracing.inject(capture, change);
        capture.end();
        Context parent = tracing.parent(change);
        assertNotNull(parent);
        Span streams = tracing.startChild("streams", SpanKind.CONSUMER, parent);
        RecordHeaders invalidation = new RecordHeaders();
        invalidation.add("tracestate", "foreign=1".getBytes(StandardCharsets.UTF_8));
        tracing.inject(streams, invalidation);
        streams.end();
        assertEquals(1, invalidation.toArray().length, "only the traceparent, no tracestate: " + List.of(invalidation.toArray()));
        String written = new String(invalidation.lastHeader(Headers.TRACEPARENT).value(), StandardCharsets.UTF_8);
        assertTrue(written.matches("00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}"), written);
        List<SpanData> finished = spans.getFinishedSpanItems();
        assertEquals(2, finished.size());
        assertEquals(finished.get(0).getTraceId(), finished.get(1).getTraceId());
        assertEquals(finished.get(0).getSpanId(), finished.get(1).getParentSpanId());
        assertTrue(written.contains(finished.get(1).getSpanId()), "the invalidation carries streams' span: " + written);
    }

    @Test
    void aMalformedInvalidOrUnsampledTraceparentIsIgnoredNeverFatal() {
        Tracing tracing = Tracing.of(sdk, 1.0);
        for (String bad : List.of("", "garbage", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
                "00-00000000000000000000000000000000-b7ad6b7169203331-01", // invalid trace id
                "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // invalid span id
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", // not sampled
                "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // forbidden version
                "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01", // upper case
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" + "x".repeat(200))) {
            assertNull(tracing.parent(traceparent(bad.getBytes(StandardCharsets.UTF_8))), bad);
        }
        assertNull(tracing.parent(traceparent(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1})), "not UTF-8");
        assertNull(tracing.parent(traceparent(null)), "a null value");
        assertNull(tracing.parent(new RecordHeaders()), "no header");
        assertNotNull(
                tracing.parent(traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void offSamplesNothingAndReadsNoHeader() {
        assertFalse(Tracing.OFF.on());
        assertFalse(Tracing.OFF.sample());
        assertNull(Tracing.OFF
                .parent(traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".getBytes(StandardCharsets.UTF_8))));
        assertFalse(Tracing.of(sdk, 0).sample());
    }

    @Test
    void theRatioIsTheShareOfChangesSampled() {
        Tracing tracing = Tracing.of(sdk, 0.1);
        int sampled = 0;
        for (int i = 0; i < 100_000; i++) {
            sampled += tracing.sample() ? 1 : 0;
        }
        assertTrue(sampled > 9_000 && sampled < 11_000, "sampled " + sampled + " of 100000 at 0.1");
        assertNotEquals(0, sampled);
    }
}
