package io.lethe.streams.topology;

import io.lethe.config.LetheConfig;
import io.lethe.streams.mapping.InvalidationMapper;
import io.lethe.streams.metrics.StreamsMetrics;
import java.time.Clock;
import io.lethe.schemas.Watermark;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;

/**
 * The fan-out topology, built from the validated configuration alone:
 * <pre>
 *   changes-source (lethe.changes, raw bytes)
 *     └─ map-changes ──► invalidations-sink        (lethe.invalidations, every invalidation of the namespaces on
 *                    │                              the public topic; upserts as deletes where payloads are stripped)
 *                    ├─► region-topic-&lt;t&gt;-sink    (lethe.invalidations.&lt;r&gt;, the namespaces of the regions
 *                    │                              that read it; none for regions that read the public topic)
 *                    └─► dlq-sink                  (lethe.dlq, original bytes + reason headers)
 *
 *   requests-source (lethe.invalidation-requests: manual purges of applications and lethe invalidate)
 *     └─ route-requests ──► the same sinks, as this configuration routes the namespace; refused: dlq-sink
 * </pre>
 * No state stores and no repartition: records are re-keyed by cache key on the way out, so one
 * partition of each output topic holds every event of a key. The requests share the changes' sinks,
 * so both sources are one sub-topology: task {@code 0_i} reads changes partition {@code i} and
 * request partition {@code i} (the request topic has no more partitions than the changes topic).
 * The instance whose watermarks prove to a region that changes partition {@code i} is routed under
 * the region's configuration (a topic move waits for that proof) routes that partition's requests
 * too, so a purge routed under an older configuration is older than the proof, and the region's
 * wholesale invalidation at the move covers it.
 */
public final class InvalidationTopology {
    public static final String SOURCE = "changes-source";
    public static final String MAPPER = "map-changes";
    public static final String PUBLIC_SINK = "invalidations-sink";
    public static final String DLQ_SINK = "dlq-sink";
    public static final String REQUEST_SOURCE = "requests-source";
    public static final String REQUEST_ROUTER = "route-requests";

    private InvalidationTopology() {
    }

    /**
     * The sink that writes {@code topic}: the public sink for the public topic (which regions
     * subscribed to every namespace read), one sink per other region topic (shared by the regions
     * that subscribe to the same namespaces).
     */
    public static String sinkOf(LetheConfig config, String topic) {
        return topic.equals(config.topics().invalidations()) ? PUBLIC_SINK : "region-topic-" + topic + "-sink";
    }

    /** The sinks of the topics {@code regions} read, each once, the public sink left out (every invalidation goes there anyway). */
    static List<String> regionSinks(LetheConfig config, java.util.Collection<String> regions) {
        return regions.stream().map(r -> sinkOf(config, config.topics().invalidations(r))).distinct()
                .filter(sink -> !sink.equals(PUBLIC_SINK)).toList();
    }

    public static Topology build(LetheConfig config, StreamsMetrics metrics, Clock clock) {
        return build(config, metrics, clock, io.lethe.stage.trace.Tracing.OFF);
    }

    /** As above; a change whose record carries a sampled {@code traceparent} is transformed in a span of its trace. */
    public static Topology build(LetheConfig config, StreamsMetrics metrics, Clock clock, io.lethe.stage.trace.Tracing tracing) {
        Topology topology = new Topology();
        topology.addSource(SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), config.topics().changes());
        InvalidationMapper mapper = new InvalidationMapper(config, clock);
        topology.addProcessor(MAPPER, () -> new ChangeProcessor(config, mapper, metrics, clock, tracing), SOURCE);
        // any application writes this topic: its own timestamps, which never throw (Kafka Streams' default fails on a negative one)
        topology.addSource((org.apache.kafka.streams.AutoOffsetReset) null, REQUEST_SOURCE, new RequestTimestamps(clock),
                new StringDeserializer(), new ByteArrayDeserializer(),
                config.topics().invalidationRequests());
        topology.addProcessor(REQUEST_ROUTER, () -> new RequestProcessor(config, metrics, clock), REQUEST_SOURCE);
        // the public topic is also the topic of every region subscribed to every namespace: it
        // carries their watermarks, so it multicasts them like the region topics
        topology.addSink(PUBLIC_SINK, config.topics().invalidations(), new StringSerializer(), new ByteArraySerializer(),
                InvalidationTopology::watermarksToEveryPartition, MAPPER, REQUEST_ROUTER);
        config.regions().keySet().stream().map(r -> config.topics().invalidations(r)).distinct()
                .filter(topic -> !sinkOf(config, topic).equals(PUBLIC_SINK))
                .forEach(topic -> topology.addSink(sinkOf(config, topic), topic, new StringSerializer(), new ByteArraySerializer(),
                        InvalidationTopology::watermarksToEveryPartition, MAPPER, REQUEST_ROUTER));
        topology.addSink(DLQ_SINK, config.topics().dlq(), new StringSerializer(), new ByteArraySerializer(), MAPPER, REQUEST_ROUTER);
        return topology;
    }

    /**
     * The region sinks' partitioner: a watermark goes to every partition (each region partition
     * then says how far it is caught up); every other record is partitioned by its key, as the
     * producer's default does.
     */
    static Optional<Set<Integer>> watermarksToEveryPartition(String topic, String key, byte[] value, int partitions) {
        if (!Watermark.isWatermark(key)) {
            return Optional.empty();
        }
        return Optional.of(IntStream.range(0, partitions).boxed().collect(Collectors.toSet()));
    }
}
