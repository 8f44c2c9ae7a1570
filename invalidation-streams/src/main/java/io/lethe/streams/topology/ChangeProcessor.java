package io.lethe.streams.topology;

import io.lethe.stage.time.Micros;
import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.stage.dlq.DeadLetter;
import io.lethe.schemas.Watermark;
import java.util.Optional;
import java.util.LinkedHashSet;
import java.util.Set;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.mapping.InvalidationMapper;
import io.lethe.streams.mapping.MappingProblem;
import io.lethe.streams.mapping.MappingResult;
import io.lethe.streams.metrics.StreamsMetrics;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps one change to its invalidations and forwards each to the public sink (unless its namespace
 * stays off the public topic; upserts without their payload when it strips them) and to the sink of
 * every region that subscribes to its namespace. Anything that cannot be mapped goes to the DLQ
 * with the original bytes and headers naming reason, stage and source coordinates; the
 * processor never throws for bad input. With {@code streams.watermark-key}, a change whose
 * {@code lethe.signature} (capture's) does not verify is mapped into deletes only, its upserts sent
 * as the delete at their version, and dead-lettered as {@code untrusted-record}: it can cost misses,
 * never put a payload it chose into a region.
 */
final class ChangeProcessor implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeProcessor.class);

    private final InvalidationMapper mapper;
    private final StreamsMetrics metrics;
    private final Clock clock;
    /** namespace -> sinks of the regions subscribed to it. */
    private final Map<String, List<String>> regionSinks;
    private final Map<String, List<String>> regionNames;
    /** Every sink a region reads from, each once: where watermarks go. */
    private final List<String> watermarkSinks;
    /** Each watermark sink's {@link LetheConfig#routes}: what its topic carries under this configuration. */
    private final Map<String, String> sinkRoutes;
    private final LetheConfig config;
    /**
     * {@link LetheConfig#topics()}, worked out once: it builds the topic names anew on each call (a
     * fingerprint per region subscribed to some namespaces), and every public invalidation needs them.
     */
    private final io.lethe.schemas.Topics topics;
    private ProcessorContext<String, byte[]> context;

    /** {@code streams.watermark-key}: forwarded watermarks are signed with it (regions with the key verify), or null. */
    private final byte[] watermarkKey;
    /** Signs every invalidation record with {@code streams.watermark-key} (regions with the key verify), or null without one. */
    private final io.lethe.schemas.RecordSignature signature;
    private final Tracing tracing;
    /** The span of the change being processed when its record carries a sampled trace, else null. */
    private Span span;

    /** Span name of streams' transform of a sampled change into its invalidations. */
    static final String SPAN = "lethe.streams.transform";

    ChangeProcessor(LetheConfig config, InvalidationMapper mapper, StreamsMetrics metrics, Clock clock) {
        this(config, mapper, metrics, clock, Tracing.OFF);
    }

    ChangeProcessor(LetheConfig config, InvalidationMapper mapper, StreamsMetrics metrics, Clock clock, Tracing tracing) {
        this.tracing = tracing;
        this.config = config;
        this.topics = config.topics();
        this.mapper = mapper;
        this.metrics = metrics;
        // every widened-invalidation series exists from the start, so alerts on increase() work before the first one
        for (String ns : config.namespaces().keySet()) {
            for (DlqReason reason : List.of(DlqReason.MISSING_COLUMN, DlqReason.MISSING_OLD_IMAGE, DlqReason.UNAVAILABLE_VALUE,
                    DlqReason.KEY_TOO_LONG, DlqReason.BAD_VERSION, DlqReason.MALFORMED, DlqReason.RECORD_TOO_LARGE)) {
                metrics.widenedCounter(ns, reason.code());
            }
        }
        this.clock = clock;
        this.watermarkKey = config.streams().watermarkKey() == null
                ? null
                : config.streams().watermarkKey().reveal().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        this.signature = watermarkKey == null ? null : new io.lethe.schemas.RecordSignature(watermarkKey);
        this.regionNames = config.namespaces().keySet().stream().collect(Collectors.toMap(ns -> ns,
                ns -> config.regions().values().stream().filter(r -> config.receives(r).contains(ns)).map(RegionConfig::name).toList()));
        this.regionSinks = regionNames.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                e -> InvalidationTopology.regionSinks(config, e.getValue())));
        this.watermarkSinks = config.regions().keySet().stream()
                .map(r -> InvalidationTopology.sinkOf(config, config.topics().invalidations(r))).distinct().toList();
        this.sinkRoutes = config.regions().keySet().stream().map(r -> config.topics().invalidations(r)).distinct()
                .collect(Collectors.toMap(topic -> InvalidationTopology.sinkOf(config, topic), config::routes));
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, byte[]> record) {
        if (Watermark.isWatermark(record.key())) {
            forwardWatermark(record);
            return;
        }
        Context parent = tracing.parent(record.headers());
        if (parent == null) {
            transform(record);
            return;
        }
        // a sampled change: streams' span continues capture's trace, and every invalidation made of it carries this span
        span = tracing.startChild(SPAN, SpanKind.CONSUMER, parent);
        context.recordMetadata().ifPresent(m -> span.setAttribute(PARTITION, (long) m.partition()));
        try {
            transform(record);
        } finally {
            span.end();
            span = null;
        }
    }

    static final AttributeKey<Long> PARTITION = AttributeKey.longKey("messaging.source.partition.id");
    static final AttributeKey<Long> LSN = AttributeKey.longKey("lethe.lsn");
    static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("lethe.namespace");
    static final AttributeKey<Long> INVALIDATIONS = AttributeKey.longKey("lethe.invalidations");

    private void transform(Record<String, byte[]> record) {
        long t0 = System.nanoTime();
        metrics.in();
        ChangeEvent change;
        try {
            change = EventJson.readChange(record.value());
        } catch (SchemaViolationException e) {
            // fail closed: the record key still names the table (<schema>.<table>[:<pk>]), so its namespaces are reset
            List<MappingProblem> problems = new ArrayList<>();
            for (ChangeEvent reset : resetsForKey(record)) {
                forward(record, mapper.map(reset));
                problems.add(new MappingProblem(DlqReason.MALFORMED, e.getMessage() + "; namespace " + reset.namespace()
                        + " invalidated wholesale instead", reset.namespace()));
            }
            deadLetter(record, problems.isEmpty() ? List.of(MappingProblem.unmapped(DlqReason.MALFORMED, e.getMessage())) : problems, e);
            return;
        }
        MappingResult result = mapper.map(change);
        if (span != null) {
            span.setAttribute(LSN, change.lsn());
            span.setAttribute(INVALIDATIONS, (long) result.invalidations().size());
            if (!result.invalidations().isEmpty()) {
                span.setAttribute(NAMESPACE, result.invalidations().get(0).namespace());
            }
        }
        List<MappingProblem> problems = new ArrayList<>(result.problems());
        if (signature != null && !signature.verifies(record.headers(), record.key(), record.value())) {
            // not written by capture (or written before it had streams.watermark-key): whoever can write the changes topic
            // must not have streams vouch, with its own signature, for the payloads it chose. Its invalidations can at most
            // cost misses, so they go out (refusing them could leave an entry a real change needed removed), its upserts
            // as the delete at their version; the change is dead-lettered for audit.
            long upserts = result.invalidations().stream().filter(e -> e.action() == io.lethe.schemas.Action.UPSERT).count();
            result = new MappingResult(result.invalidations().stream()
                    .map(e -> e.action() == io.lethe.schemas.Action.UPSERT ? e.asDelete() : e).toList(), result.problems());
            problems.add(MappingProblem.unmapped(DlqReason.UNTRUSTED_RECORD, "a change whose " + Headers.SIGNATURE
                    + (record.headers().lastHeader(Headers.SIGNATURE) == null ? " is missing" : " does not verify")
                    + " with streams.watermark-key: not written by capture; its invalidations were sent as deletes"
                    + (upserts > 0 ? " (" + upserts + " upsert(s) as the delete at their version)" : "")));
        }
        problems.addAll(forward(record, result));
        if (!problems.isEmpty()) {
            deadLetter(record, problems, null);
        }
        metrics.processed(System.nanoTime() - t0, change.commitTs(), Micros.of(clock.instant()));
    }

    /**
     * A heartbeat's watermark: on to every partition of every topic a region reads (the sinks'
     * partitioner multicasts it), saying which changes partition it came through. The public
     * topic carries them only when a region reads it (subscribed to every namespace).
     */
    private void forwardWatermark(Record<String, byte[]> record) {
        Optional<Watermark> read = Watermark.read(record.headers());
        int partition = context.recordMetadata().map(RecordMetadata::partition).orElse(0);
        if (read.isEmpty()) {
            LOG.warn("a watermark record without its headers on changes partition {}; ignored", partition);
            return;
        }
        if (watermarkKey != null && !read.get().verifies(record.headers(), watermarkKey)) {
            // capture signs its heartbeats' watermarks with the same key: one that does not verify was written by someone
            // else with write access to the changes topic, and streams would vouch for it with its own signature
            deadLetter(record, List.of(MappingProblem.unmapped(DlqReason.UNTRUSTED_WATERMARK, "a watermark on changes partition "
                    + partition + " whose " + Watermark.SIGNATURE + " does not verify with streams.watermark-key: not written by capture")),
                    null);
            return;
        }
        // one channel per (capture shard, changes partition): a heartbeat of one shard says nothing of another's tables, so
        // regions keep the oldest over every channel. A watermark of no configured shard (a shard removed, a capture
        // configured otherwise than streams) is not forwarded: regions hold their watermarks rather than claim coverage
        int channel = config.watermarkChannel(read.get().shard(), partition);
        if (channel < 0) {
            LOG.warn("a watermark of capture shard '{}' on changes partition {}, which this configuration does not have (shards: {}); "
                    + "not forwarded", read.get().shard() == null ? "" : read.get().shard(), partition,
                    config.source().shards().keySet());
            return;
        }
        // forwarded with its changes partition and its shard: each region numbers the channel under its own shard set
        // (LetheConfig.watermarkChannel), so stages running different shard sets during a rollout cannot alias channels
        Watermark watermark = read.get().from(partition);
        for (String sink : watermarkSinks) {
            context.forward(new Record<>(Watermark.KEY, new byte[0], record.timestamp(),
                    watermark.writeTo(new RecordHeaders(), watermarkKey, sinkRoutes.get(sink))), sink);
        }
        metrics.watermark(partition, channel % config.shardCount(), watermark.commitTs());
    }

    /** Resets of every namespace of the table a record key names, for a change that could not be read. */
    private List<ChangeEvent> resetsForKey(Record<String, byte[]> record) {
        if (record.key() == null) {
            return List.of();
        }
        int colon = record.key().indexOf(':');
        String table = colon < 0 ? record.key() : record.key().substring(0, colon);
        int dot = table.indexOf('.');
        if (dot < 0) {
            return List.of();
        }
        RecordMetadata meta = context.recordMetadata().orElse(null);
        String where = meta == null ? "unknown" : meta.topic() + "-" + meta.partition() + "@" + meta.offset();
        long now = Micros.of(clock.instant());
        SourceTable source = config.sourceTable(table);
        return config.namespacesForTable(table).stream().map(ns -> new ChangeEvent(ChangeEvent.SCHEMA_ID, "malformed:" + where + ":"
                + ns.name(), source, Op.RESET, null, null, null, InvalidationMapper.MAX_VERSION, 0, null, now, now, ns.name(), null))
                .toList();
    }

    /**
     * Forwards every invalidation of {@code result} to the public sink (as its namespace's
     * {@code public-topic} and {@code public-payloads} say) and the sinks of its namespace's regions. An upsert too large for Kafka goes out as the delete at its version
     * (fail closed: the entry goes instead of being replaced); the problem is returned.
     */
    private List<MappingProblem> forward(Record<String, byte[]> record, MappingResult result) {
        byte[] schemaHeader = InvalidationEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8);
        List<MappingProblem> problems = new ArrayList<>();
        for (InvalidationEvent invalidation : result.invalidations()) {
            InvalidationEvent event = invalidation;
            byte[] bytes = EventJson.write(event);
            if (bytes.length > DeadLetter.MAX_VALUE_BYTES && event.action() == io.lethe.schemas.Action.UPSERT) {
                problems.add(new MappingProblem(DlqReason.RECORD_TOO_LARGE, "the upsert of " + event.key() + " is " + bytes.length
                        + " bytes, more than Kafka takes; sent as a delete instead", event.namespace()));
                event = event.asDelete();
                bytes = EventJson.write(event);
            }
            Record<String, byte[]> out = new Record<>(event.target(), bytes, record.timestamp(),
                    headers(schemaHeader, event.target(), bytes));
            io.lethe.config.NamespaceConfig ns = config.namespaces().get(event.namespace());
            if (ns == null || ns.publicTopic()) {
                // other teams read the public topic: a namespace may stay off it, or send its upserts there as the
                // delete at their version (the row values stay on the region topics); then no region reads it
                boolean strip = ns != null && event.action() == io.lethe.schemas.Action.UPSERT && !ns.publicPayloads();
                byte[] publicValue = strip ? EventJson.write(event.asDelete()) : bytes;
                // the stripped copy is signed as it is sent, so a subscriber with the key can verify it too; and the
                // public topic's records carry CloudEvents' binary-mode headers (additive: the value is the same JSON)
                RecordHeaders publicHeaders = strip
                        ? headers(schemaHeader, event.target(), publicValue)
                        : new RecordHeaders(out.headers().toArray());
                io.lethe.schemas.CloudEvents.headers(event, topics).forEach(publicHeaders::add);
                context.forward(new Record<>(event.target(), publicValue, record.timestamp(), publicHeaders),
                        InvalidationTopology.PUBLIC_SINK);
                metrics.out(event.namespace(), StreamsMetrics.ALL_REGIONS);
            }
            // once per topic: regions that share a topic (or read the public one) read the same record
            for (String sink : regionSinks.getOrDefault(event.namespace(), List.of())) {
                context.forward(out, sink);
            }
            for (String region : regionNames.getOrDefault(event.namespace(), List.of())) {
                metrics.out(event.namespace(), region);
            }
        }
        return problems;
    }

    /**
     * The headers of an invalidation record: its schema, with {@code streams.watermark-key} its
     * signature, and for a sampled change this stage's {@code traceparent}.
     */
    private RecordHeaders headers(byte[] schemaHeader, String recordKey, byte[] value) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(Headers.SCHEMA, schemaHeader);
        if (signature != null) {
            signature.addTo(headers, recordKey, value);
        }
        if (span != null) {
            tracing.inject(span, headers);
        }
        return headers;
    }

    private void deadLetter(Record<String, byte[]> record, List<MappingProblem> problems, Exception cause) {
        RecordMetadata meta = context.recordMetadata().orElse(null);
        Set<DlqReason> reasons = new LinkedHashSet<>();
        problems.forEach(p -> reasons.add(p.reason()));
        String error = problems.stream().map(MappingProblem::message).collect(Collectors.joining("; "));
        DeadLetter letter = DeadLetter.of("streams", reasons, error).original(record.key(), record.value()).exception(cause)
                .at(clock.millis());
        if (meta != null) {
            letter.source(meta.topic(), meta.partition(), meta.offset());
        }
        context.forward(new Record<>(letter.key(), letter.value(), record.timestamp(), letter.headers()), InvalidationTopology.DLQ_SINK);
        reasons.forEach(r -> metrics.deadLettered(r.code()));
        problems.stream().filter(MappingProblem::widened).forEach(p -> metrics.widened(p.namespace(), p.reason().code()));
        LOG.warn("dead-lettered {} ({}): {}", meta == null ? "a record" : meta.topic() + "-" + meta.partition() + "@" + meta.offset(),
                letter.reason(), error);
    }
}
