package io.lethe.region.apply;

import io.lethe.schemas.InvalidationEvent;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;

/**
 * The region's spans of sampled invalidations: one per record of a batch that carries a sampled
 * trace (most carry none), from its batch's admission until Redis acknowledged the batch.
 */
final class ApplySpans {
    /** Span name of a region's apply of a sampled invalidation: from its batch's admission until Redis acknowledged the batch. */
    static final String SPAN = "lethe.region.apply";
    private static final AttributeKey<Long> PARTITION = AttributeKey.longKey("messaging.source.partition.id");
    private static final AttributeKey<Long> LSN = AttributeKey.longKey("lethe.lsn");

    private final String region;
    private Tracing tracing = Tracing.OFF;

    ApplySpans(String region) {
        this.region = region;
    }

    /** Continues the traces of sampled invalidations with {@code tracing} (tracing.* of lethe.yml). */
    void tracing(Tracing tracing) {
        this.tracing = tracing;
    }

    /** A span of the region's apply for each record of the batch that carries a sampled trace; none when tracing is off. */
    Map<ConsumerRecord<String, byte[]>, Span> start(ConsumerRecords<String, byte[]> records) {
        if (!tracing.on()) {
            return Map.of();
        }
        Map<ConsumerRecord<String, byte[]>, Span> spans = null;
        for (ConsumerRecord<String, byte[]> record : records) {
            Context parent = tracing.parent(record.headers());
            if (parent != null) {
                Span span = tracing.startChild(SPAN, SpanKind.CONSUMER, parent);
                span.setAttribute("lethe.region", region);
                span.setAttribute(PARTITION, (long) record.partition());
                spans = spans == null ? new IdentityHashMap<>() : spans;
                spans.put(record, span);
            }
        }
        return spans == null ? Map.of() : spans;
    }

    /** Ends the batch's spans: applied (with Redis's acknowledgement of the batch), refused by admission, or not applied (closing). */
    static void end(Map<ConsumerRecord<String, byte[]>, Span> spans, Admission.Admitted batch, int batchSize, boolean applied) {
        if (spans.isEmpty()) {
            return;
        }
        Map<ConsumerRecord<String, byte[]>, InvalidationEvent> admitted = new IdentityHashMap<>();
        batch.origins().forEach((event, record) -> admitted.put(record, event));
        spans.forEach((record, span) -> {
            InvalidationEvent event = admitted.get(record);
            span.setAttribute("lethe.batch.size", (long) batchSize);
            if (event == null) {
                span.setAttribute("lethe.outcome", "refused"); // dead-lettered by admission, with its reason
            } else {
                span.setAttribute("lethe.namespace", event.namespace());
                span.setAttribute(LSN, event.lsn());
                span.setAttribute("lethe.outcome", applied ? "applied" : "not-applied");
            }
            if (!applied) {
                span.setStatus(StatusCode.ERROR, "closing before Redis acknowledged the batch");
            }
            span.end();
        });
    }
}
