package io.lethe.streams.topology;

import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.mapping.InvalidationMapper;
import io.lethe.streams.mapping.MappingProblem;
import io.lethe.streams.mapping.MappingResult;
import io.lethe.streams.metrics.StreamsMetrics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
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
 * Maps one change to its invalidations and forwards each to the public sink and to the sink of
 * every region that subscribes to its namespace. Anything that cannot be mapped goes to the DLQ
 * with the original bytes and headers naming reason, stage and source coordinates; the
 * processor never throws for bad input.
 */
final class ChangeProcessor implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeProcessor.class);

    private final InvalidationMapper mapper;
    private final StreamsMetrics metrics;
    private final Clock clock;
    /** namespace -> sinks of the regions subscribed to it. */
    private final Map<String, List<String>> regionSinks;
    private final Map<String, List<String>> regionNames;
    private final LetheConfig config;
    private ProcessorContext<String, byte[]> context;

    ChangeProcessor(LetheConfig config, InvalidationMapper mapper, StreamsMetrics metrics, Clock clock) {
        this.config = config;
        this.mapper = mapper;
        this.metrics = metrics;
        // every widened-invalidation series exists from the start, so alerts on increase() work before the first one
        for (String ns : config.namespaces().keySet()) {
            for (DlqReason reason : List.of(DlqReason.MISSING_COLUMN, DlqReason.MISSING_OLD_IMAGE, DlqReason.UNAVAILABLE_VALUE,
                    DlqReason.KEY_TOO_LONG, DlqReason.BAD_VERSION, DlqReason.MALFORMED)) {
                metrics.widenedCounter(ns, reason.code());
            }
        }
        this.clock = clock;
        this.regionNames = config.namespaces().keySet().stream().collect(Collectors.toMap(ns -> ns,
                ns -> config.regions().values().stream().filter(r -> r.namespaces().contains(ns)).map(RegionConfig::name).toList()));
        this.regionSinks = regionNames.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                e -> e.getValue().stream().map(InvalidationTopology::regionSink).toList()));
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, byte[]> record) {
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
        forward(record, result);
        if (!result.problems().isEmpty()) {
            deadLetter(record, result.problems(), null);
        }
        metrics.processed(System.nanoTime() - t0, change.commitTs(), micros(clock.instant()));
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
        long now = micros(clock.instant());
        SourceTable source = new SourceTable(config.source().database(), table.substring(0, dot), table.substring(dot + 1));
        return config.namespacesForTable(table).stream().map(ns -> new ChangeEvent(ChangeEvent.SCHEMA_ID, "malformed:" + where + ":"
                + ns.name(), source, Op.RESET, null, null, null, InvalidationMapper.MAX_VERSION, 0, null, now, now, ns.name(), null)).toList();
    }

    private static long micros(Instant instant) {
        return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
    }

    /** Forwards every invalidation of {@code result} to the public sink and the sinks of its namespace's regions. */
    private void forward(Record<String, byte[]> record, MappingResult result) {
        byte[] schemaHeader = InvalidationEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8);
        for (InvalidationEvent event : result.invalidations()) {
            byte[] bytes = EventJson.write(event);
            RecordHeaders headers = new RecordHeaders();
            headers.add(Headers.SCHEMA, schemaHeader);
            Record<String, byte[]> out = new Record<>(event.target(), bytes, record.timestamp(), headers);
            context.forward(out, InvalidationTopology.PUBLIC_SINK);
            metrics.out(event.namespace(), StreamsMetrics.ALL_REGIONS);
            List<String> sinks = regionSinks.getOrDefault(event.namespace(), List.of());
            List<String> names = regionNames.getOrDefault(event.namespace(), List.of());
            for (int i = 0; i < sinks.size(); i++) {
                context.forward(out, sinks.get(i));
                metrics.out(event.namespace(), names.get(i));
            }
        }
    }

    private void deadLetter(Record<String, byte[]> record, List<MappingProblem> problems, Exception cause) {
        RecordMetadata meta = context.recordMetadata().orElse(null);
        String topic = meta == null ? "" : meta.topic();
        String partition = meta == null ? "" : Integer.toString(meta.partition());
        String offset = meta == null ? "" : Long.toString(meta.offset());
        List<String> reasons = new ArrayList<>();
        problems.forEach(p -> {
            if (!reasons.contains(p.reason().code())) {
                reasons.add(p.reason().code());
            }
        });
        String error = problems.stream().map(MappingProblem::message).collect(Collectors.joining("; "));
        RecordHeaders headers = new RecordHeaders();
        put(headers, Headers.DLQ_REASON, String.join(",", reasons));
        put(headers, Headers.DLQ_ERROR, error);
        put(headers, Headers.DLQ_STAGE, "streams");
        put(headers, Headers.DLQ_SOURCE_TOPIC, topic);
        put(headers, Headers.DLQ_SOURCE_PARTITION, partition);
        put(headers, Headers.DLQ_SOURCE_OFFSET, offset);
        put(headers, Headers.DLQ_TIMESTAMP, Long.toString(clock.millis()));
        if (cause != null) {
            put(headers, Headers.DLQ_EXCEPTION, cause.getClass().getName());
        }
        context.forward(new Record<>(record.key(), record.value(), record.timestamp(), headers), InvalidationTopology.DLQ_SINK);
        reasons.forEach(metrics::deadLettered);
        problems.stream().filter(MappingProblem::widened).forEach(p -> metrics.widened(p.namespace(), p.reason().code()));
        LOG.warn("dead-lettered {}-{}@{} ({}): {}", topic, partition, offset, String.join(",", reasons), error);
    }

    private static void put(RecordHeaders headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
