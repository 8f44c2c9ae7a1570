package io.lethe.streams.topology;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.invalidate.ManualRequests;
import io.lethe.schemas.CloudEvents;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.RecordSignature;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.Topics;
import io.lethe.schemas.serde.EventJson;
import io.lethe.stage.dlq.DeadLetter;
import io.lethe.stage.time.Micros;
import io.lethe.streams.metrics.StreamsMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes the manual purges requested on {@code <prefix>.invalidation-requests} ({@code lethe invalidate},
 * cache-client's {@code Invalidations}) with this configuration, as CDC's invalidations are routed: to
 * the public topic when the namespace is on it, and to the topic of every region that may cache the
 * target ({@link ManualRequests#regions}), each topic once. This configuration is the one routing truth
 * the regions are kept in step with (a topic move waits for streams to write the new topic), so a
 * publisher on another file cannot send a purge where no region reads.
 *
 * <p>Whoever may write the request topic (applications) may write anything, and streams signs what it
 * routes: a request is judged again ({@link ManualRequests#refusal}: a manual delete within its
 * namespace's rules) and rebuilt from what a purge needs (no source, transaction or commit position
 * of the publisher's choosing); one it refuses, or cannot read, is dead-lettered with its reason and
 * nothing is routed. The processor never throws for bad input.
 */
final class RequestProcessor implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(RequestProcessor.class);

    private final LetheConfig config;
    private final StreamsMetrics metrics;
    private final Clock clock;
    /** {@link LetheConfig#topics()}, worked out once (it builds the names anew on each call). */
    private final Topics topics;
    /** Signs every routed record with {@code streams.watermark-key}'s current key, or null without one. */
    private final RecordSignature signature;
    private ProcessorContext<String, byte[]> context;

    RequestProcessor(LetheConfig config, StreamsMetrics metrics, Clock clock) {
        this.config = config;
        this.metrics = metrics;
        this.clock = clock;
        this.topics = config.topics();
        SigningKeys keys = config.streams().signingKeys();
        this.signature = keys == null ? null : keys.signer();
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, byte[]> record) {
        InvalidationEvent request;
        try {
            request = EventJson.readInvalidation(record.value());
        } catch (SchemaViolationException e) {
            deadLetter(record, DlqReason.MALFORMED, "a purge request that is not an invalidation: " + e.getMessage(), e);
            return;
        }
        Optional<ManualRequests.Refusal> refusal = ManualRequests.refusal(config, request);
        if (refusal.isPresent()) {
            deadLetter(record, refusal.get().reason(), "purge request " + request.id() + " of namespace " + request.namespace()
                    + " not routed: " + refusal.get().message(), null);
            return;
        }
        // streams' own time, for the record's timestamp too: the publisher chose the request's
        Instant now = clock.instant();
        route(rebuilt(request, Micros.of(now)), now.toEpochMilli());
    }

    /**
     * The invalidation streams vouches for: the request's namespace, scope, target, version and LSN, its
     * id and origin, stamped as committed, captured and emitted now (streams' clock): nothing else of the
     * publisher's choosing. A region's lag gauge and latency histogram trust a signed record's commit
     * time, so a publisher's own would let any application forge a region's lag.
     */
    private InvalidationEvent rebuilt(InvalidationEvent r, long now) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, r.id(), r.namespace(), r.scope(), r.key(), r.pattern(), r.action(),
                null, r.version(), r.lsn(), null, now, now, now, null, r.op(), null, r.originRegion(), null);
    }

    private void route(InvalidationEvent event, long timestamp) {
        NamespaceConfig ns = config.namespaces().get(event.namespace());
        byte[] value = EventJson.write(event);
        if (ns.publicTopic()) {
            RecordHeaders headers = headers(event.target(), value);
            // the public topic's records carry CloudEvents' binary-mode headers, whoever asked for them
            CloudEvents.headers(event, topics).forEach(headers::add);
            context.forward(new Record<>(event.target(), value, timestamp, headers), InvalidationTopology.PUBLIC_SINK);
            metrics.out(event.namespace(), StreamsMetrics.ALL_REGIONS);
        }
        List<String> regions = ManualRequests.regions(config, ns, event.key(), event.pattern());
        Set<String> sinks = new LinkedHashSet<>();
        for (String region : regions) {
            String topic = topics.invalidations(region);
            // once per topic; the public topic has its copy already when the namespace is on it (and a region reads the
            // public topic only when every namespace is on it)
            if (!topic.equals(topics.invalidations())) {
                sinks.add(InvalidationTopology.sinkOf(config, topic));
            }
            metrics.out(event.namespace(), region);
        }
        for (String sink : sinks) {
            context.forward(new Record<>(event.target(), value, timestamp, headers(event.target(), value)), sink);
        }
    }

    /** The headers of a routed record: its schema and, with {@code streams.watermark-key}, its signature. */
    private RecordHeaders headers(String recordKey, byte[] value) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Headers.SCHEMA, InvalidationEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
        if (signature != null) {
            signature.addTo(headers, recordKey, value);
        }
        return headers;
    }

    private void deadLetter(Record<String, byte[]> record, DlqReason reason, String error, Exception cause) {
        RecordMetadata meta = context.recordMetadata().orElse(null);
        DeadLetter letter = DeadLetter.of("streams", Set.of(reason), error).original(record.key(), record.value()).exception(cause)
                .at(clock.millis());
        if (meta != null) {
            letter.source(meta.topic(), meta.partition(), meta.offset());
        }
        context.forward(new Record<>(letter.key(), letter.value(), clock.millis(), letter.headers()),
                InvalidationTopology.DLQ_SINK);
        metrics.deadLettered(reason.code());
        LOG.warn("dead-lettered {} ({}): {}", meta == null ? "a request" : meta.topic() + "-" + meta.partition() + "@" + meta.offset(),
                reason.code(), error);
    }
}
