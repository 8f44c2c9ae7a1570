package io.lethe.streams.topology;

import io.lethe.config.LetheConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import io.lethe.stage.dlq.DeadLetter;
import io.lethe.stage.time.Micros;
import io.lethe.stage.trace.Tracing;
import io.lethe.streams.mapping.InvalidationMapper;
import io.lethe.streams.mapping.MappingProblem;
import io.lethe.streams.mapping.MappingResult;
import io.lethe.streams.metrics.StreamsMetrics;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
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
 * never put a payload it chose into a region. Where records go is {@link Sinks}'.
 */
final class ChangeProcessor implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeProcessor.class);

    private final InvalidationMapper mapper;
    private final StreamsMetrics metrics;
    private final Clock clock;
    private final LetheConfig config;
    private final Sinks sinks;
    private ProcessorContext<String, byte[]> context;

    /** {@code streams.watermark-key}: forwarded watermarks are signed with it (regions with the key verify), or null. */
    private final byte[] watermarkKey;
    /**
     * The keys a change or a capture watermark must verify with: {@code streams.watermark-key} or, while the key is
     * rotated and a capture still signs with the other one, {@code streams.previous-watermark-key}; null without a key.
     */
    private final SigningKeys keys;
    private final CaptureSkew skew;
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
        this.keys = config.streams().signingKeys();
        this.watermarkKey = keys == null ? null : keys.signingKey();
        this.sinks = new Sinks(config, metrics, tracing, keys);
        this.skew = new CaptureSkew(config, metrics, clock);
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
                sinks.forward(context, record, mapper.map(reset), span);
                problems.add(new MappingProblem(DlqReason.MALFORMED, e.getMessage() + "; namespace " + reset.namespace()
                        + " invalidated wholesale instead", reset.namespace()));
            }
            deadLetter(record, problems.isEmpty() ? List.of(MappingProblem.unmapped(DlqReason.MALFORMED, e.getMessage())) : problems, e);
            return;
        }
        MappingResult result = change.op() == Op.RESET ? mapAll(skew.widen(change, record.headers())) : mapper.map(change);
        if (span != null) {
            span.setAttribute(LSN, change.lsn());
            span.setAttribute(INVALIDATIONS, (long) result.invalidations().size());
            if (!result.invalidations().isEmpty()) {
                span.setAttribute(NAMESPACE, result.invalidations().get(0).namespace());
            }
        }
        List<MappingProblem> problems = new ArrayList<>(result.problems());
        if (keys != null && !keys.verifies(record.headers(), record.key(), record.value())) {
            // not written by capture (or written before it had streams.watermark-key): whoever can write the changes topic
            // must not have streams vouch, with its own signature, for the payloads it chose. Its invalidations can at most
            // cost misses, so they go out (refusing them could leave an entry a real change needed removed), its upserts
            // as the delete at their version; the change is dead-lettered for audit.
            long upserts = result.invalidations().stream().filter(e -> e.action() == Action.UPSERT).count();
            result = new MappingResult(result.invalidations().stream()
                    .map(e -> e.action() == Action.UPSERT ? e.asDelete() : e).toList(), result.problems());
            problems.add(MappingProblem.unmapped(DlqReason.UNTRUSTED_RECORD, "a change whose " + Headers.SIGNATURE
                    + (record.headers().lastHeader(Headers.SIGNATURE) == null ? " is missing" : " does not verify")
                    + " (" + keys.refusal(record.headers()) + "): not written by capture; its invalidations were sent as deletes"
                    + (upserts > 0 ? " (" + upserts + " upsert(s) as the delete at their version)" : "")));
        }
        problems.addAll(sinks.forward(context, record, result, span));
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
        if (keys != null && !read.get().verifies(record.headers(), keys)) {
            // capture signs its heartbeats' watermarks with the same key: one that does not verify was written by someone
            // else with write access to the changes topic, and streams would vouch for it with its own signature
            deadLetter(record, List.of(MappingProblem.unmapped(DlqReason.UNTRUSTED_WATERMARK, "a watermark on changes partition "
                    + partition + " whose " + Watermark.SIGNATURE + " does not verify (" + keys.refusal(record.headers())
                    + "): not written by capture")),
                    null);
            return;
        }
        // one channel per (capture shard, changes partition): a heartbeat of one shard says nothing of another's tables, so
        // regions keep the oldest over every channel. A watermark of no configured shard, or of a capture that captures
        // other tables than this configuration expects, is not forwarded: regions hold their watermarks rather than claim
        // coverage
        Optional<Integer> admitted = skew.admit(read.get(), record.headers(), partition);
        if (admitted.isEmpty()) {
            return;
        }
        int channel = admitted.get();
        // forwarded with its changes partition and its shard: each region numbers the channel under its own shard set
        // (LetheConfig.watermarkChannel), so stages running different shard sets during a rollout cannot alias channels
        Watermark watermark = read.get().from(partition);
        sinks.forwardWatermark(context, watermark, record.timestamp(), watermarkKey);
        metrics.watermark(partition, channel % config.shardCount(), watermark.commitTs());
    }

    private MappingResult mapAll(List<ChangeEvent> changes) {
        List<InvalidationEvent> invalidations = new ArrayList<>();
        List<MappingProblem> problems = new ArrayList<>();
        for (ChangeEvent c : changes) {
            MappingResult r = mapper.map(c);
            invalidations.addAll(r.invalidations());
            problems.addAll(r.problems());
        }
        return new MappingResult(invalidations, problems);
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
