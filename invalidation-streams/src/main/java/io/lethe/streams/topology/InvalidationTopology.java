package io.lethe.streams.topology;

import io.lethe.config.LetheConfig;
import io.lethe.streams.mapping.InvalidationMapper;
import io.lethe.streams.metrics.StreamsMetrics;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;

/**
 * The fan-out topology, built from the validated configuration alone:
 * <pre>
 *   changes-source (lethe.changes, raw bytes)
 *     └─ map-changes ──► invalidations-sink        (lethe.invalidations, every invalidation)
 *                    ├─► region-&lt;r&gt;-sink          (lethe.invalidations.&lt;r&gt;, its namespaces only)
 *                    └─► dlq-sink                  (lethe.dlq, original bytes + reason headers)
 * </pre>
 * No state stores and no repartition: records are re-keyed by cache key on the way out, so one
 * partition of each output topic holds every event of a key.
 */
public final class InvalidationTopology {
    public static final String SOURCE = "changes-source";
    public static final String MAPPER = "map-changes";
    public static final String PUBLIC_SINK = "invalidations-sink";
    public static final String DLQ_SINK = "dlq-sink";

    private InvalidationTopology() {
    }

    public static String regionSink(String region) {
        return "region-" + region + "-sink";
    }

    public static Topology build(LetheConfig config, StreamsMetrics metrics, Clock clock) {
        Topology topology = new Topology();
        topology.addSource(SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), config.topics().changes());
        InvalidationMapper mapper = new InvalidationMapper(config, clock);
        topology.addProcessor(MAPPER, () -> new ChangeProcessor(config, mapper, metrics, clock), SOURCE);
        List<String> sinks = new ArrayList<>();
        topology.addSink(PUBLIC_SINK, config.topics().invalidations(), new StringSerializer(), new ByteArraySerializer(), MAPPER);
        sinks.add(PUBLIC_SINK);
        for (String region : config.regions().keySet()) {
            topology.addSink(regionSink(region), config.topics().invalidations(region), new StringSerializer(),
                    new ByteArraySerializer(), MAPPER);
        }
        topology.addSink(DLQ_SINK, config.topics().dlq(), new StringSerializer(), new ByteArraySerializer(), MAPPER);
        return topology;
    }
}
