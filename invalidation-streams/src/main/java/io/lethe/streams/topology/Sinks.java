package io.lethe.streams.topology;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.CloudEvents;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.RecordSignature;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.Topics;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import io.lethe.stage.dlq.DeadLetter;
import io.lethe.stage.trace.Tracing;
import io.lethe.streams.mapping.MappingProblem;
import io.lethe.streams.mapping.MappingResult;
import io.lethe.streams.metrics.StreamsMetrics;
import io.opentelemetry.api.trace.Span;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Where {@link ChangeProcessor}'s records go: each invalidation to the public sink and to the sinks
 * of the regions subscribed to its namespace (once per topic), each watermark to every sink a
 * region reads; records signed with {@code streams.watermark-key} when it is set, and every upsert
 * stamped with what its namespace's entries hold under this configuration ({@link Headers#HOLDS}), so a
 * region on another configuration applies it as a delete instead of caching what this one renders.
 */
final class Sinks {
    private final LetheConfig config;
    private final StreamsMetrics metrics;
    private final Tracing tracing;
    /** namespace -> sinks of the regions subscribed to it. */
    private final Map<String, List<String>> regionSinks;
    private final Map<String, List<String>> regionNames;
    /** Every sink a region reads from, each once: where watermarks go. */
    private final List<String> watermarkSinks;
    /** Each watermark sink's {@link LetheConfig#routes}: what its topic carries under this configuration. */
    private final Map<String, String> sinkRoutes;
    /**
     * {@link LetheConfig#topics()}, worked out once: it builds the topic names anew on each call (a
     * fingerprint per region subscribed to some namespaces), and every public invalidation needs them.
     */
    private final Topics topics;
    /**
     * Namespace → its {@link NamespaceConfig#holdsFingerprint} as bytes, worked out once: the {@link Headers#HOLDS}
     * stamp of every upsert, by which a region tells what this configuration renders from what another does.
     */
    private final Map<String, byte[]> holds;
    /** Signs every invalidation record with {@code streams.watermark-key} (regions with the key verify), or null without one. */
    private final RecordSignature signature;

    /** Signs with {@code keys}' current key only ({@link SigningKeys#signer}); null for unsigned records. */
    Sinks(LetheConfig config, StreamsMetrics metrics, Tracing tracing, SigningKeys keys) {
        this.config = config;
        this.metrics = metrics;
        this.tracing = tracing;
        this.topics = config.topics();
        this.signature = keys == null ? null : keys.signer();
        this.holds = config.namespaces().values().stream().collect(Collectors.toMap(NamespaceConfig::name,
                ns -> ns.holdsFingerprint().getBytes(StandardCharsets.UTF_8)));
        this.regionNames = config.namespaces().keySet().stream().collect(Collectors.toMap(ns -> ns,
                ns -> config.regions().values().stream().filter(r -> config.receives(r).contains(ns)).map(RegionConfig::name).toList()));
        this.regionSinks = regionNames.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                e -> InvalidationTopology.regionSinks(config, e.getValue())));
        this.watermarkSinks = config.regions().keySet().stream()
                .map(r -> InvalidationTopology.sinkOf(config, config.topics().invalidations(r))).distinct().toList();
        this.sinkRoutes = config.regions().keySet().stream().map(r -> config.topics().invalidations(r)).distinct()
                .collect(Collectors.toMap(topic -> InvalidationTopology.sinkOf(config, topic), config::routes));
    }

    /** {@code watermark} on to every sink a region reads, signed with {@code key} (or null), each with its sink's routes. */
    void forwardWatermark(ProcessorContext<String, byte[]> context, Watermark watermark, long timestamp, byte[] key) {
        for (String sink : watermarkSinks) {
            context.forward(new Record<>(Watermark.KEY, new byte[0], timestamp,
                    watermark.writeTo(new RecordHeaders(), key, sinkRoutes.get(sink))), sink);
        }
    }

    /**
     * Forwards every invalidation of {@code result} to the public sink (as its namespace's
     * {@code public-topic} and {@code public-payloads} say) and the sinks of its namespace's regions.
     * An upsert too large for Kafka goes out as the delete at its version (fail closed: the entry goes
     * instead of being replaced); the problem is returned. {@code span}: the change's, or null.
     */
    List<MappingProblem> forward(ProcessorContext<String, byte[]> context, Record<String, byte[]> record, MappingResult result,
            Span span) {
        byte[] schemaHeader = InvalidationEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8);
        List<MappingProblem> problems = new ArrayList<>();
        for (InvalidationEvent invalidation : result.invalidations()) {
            InvalidationEvent event = invalidation;
            byte[] bytes = EventJson.write(event);
            if (bytes.length > DeadLetter.MAX_VALUE_BYTES && event.action() == Action.UPSERT) {
                problems.add(new MappingProblem(DlqReason.RECORD_TOO_LARGE, "the upsert of " + event.key() + " is " + bytes.length
                        + " bytes, more than Kafka takes; sent as a delete instead", event.namespace()));
                event = event.asDelete();
                bytes = EventJson.write(event);
            }
            RecordHeaders headers = headers(schemaHeader, event.target(), bytes, span);
            byte[] stamp = event.action() == Action.UPSERT ? holds.get(event.namespace()) : null;
            if (stamp != null) {
                headers.add(Headers.HOLDS, stamp); // what this configuration's entries of the namespace hold (not signed: see Headers)
            }
            Record<String, byte[]> out = new Record<>(event.target(), bytes, record.timestamp(), headers);
            NamespaceConfig ns = config.namespaces().get(event.namespace());
            if (ns == null || ns.publicTopic()) {
                // other teams read the public topic: a namespace may stay off it, or send its upserts there as the
                // delete at their version (the row values stay on the region topics); then no region reads it
                boolean strip = ns != null && event.action() == Action.UPSERT && !ns.publicPayloads();
                byte[] publicValue = strip ? EventJson.write(event.asDelete()) : bytes;
                // the stripped copy is signed as it is sent, so a subscriber with the key can verify it too; and the
                // public topic's records carry CloudEvents' binary-mode headers (additive: the value is the same JSON)
                RecordHeaders publicHeaders = strip
                        ? headers(schemaHeader, event.target(), publicValue, span)
                        : new RecordHeaders(out.headers().toArray());
                CloudEvents.headers(event, topics).forEach(publicHeaders::add);
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
    private RecordHeaders headers(byte[] schemaHeader, String recordKey, byte[] value, Span span) {
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
}
