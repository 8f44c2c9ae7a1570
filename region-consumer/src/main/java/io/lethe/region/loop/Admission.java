package io.lethe.region.loop;

import io.lethe.config.NamespaceConfig;
import io.lethe.config.Patterns;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Scope;
import io.lethe.region.dlq.RegionDeadLetters;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Which invalidations a region refuses to apply, and why: an unknown namespace, a pattern that
 * would delete every key in Redis, and a pattern covering a whole namespace that does not allow
 * it. Lethe's own namespace-wide invalidations are {@link Scope#NAMESPACE}-scoped and never refused.
 */
final class Admission {
    private final Map<String, NamespaceConfig> namespaces;
    private final String configFile;

    Admission(Map<String, NamespaceConfig> namespaces, String configFile) {
        this.namespaces = namespaces;
        this.configFile = configFile;
    }

    /** Why an invalidation is refused. */
    record Refusal(DlqReason reason, String message) {
    }

    /**
     * A poll batch, admitted.
     *
     * @param events  the invalidations to apply
     * @param origins the record each came from (for dead letters)
     * @param offsets    every partition's next offset, refused records included
     * @param watermarks the watermarks read, by partition (applied once the batch is)
     */
    record Admitted(List<InvalidationEvent> events, Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins,
                    Map<TopicPartition, OffsetAndMetadata> offsets, Map<Integer, List<Watermark>> watermarks) {
    }

    /** Reads a poll batch; a malformed or refused record is dead-lettered (its offset still moves on). */
    Admitted admit(ConsumerRecords<String, byte[]> records, RegionDeadLetters deadLetters) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        List<InvalidationEvent> events = new ArrayList<>(records.count());
        Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins = new IdentityHashMap<>();
        Map<Integer, List<Watermark>> watermarks = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
            if (Watermark.isWatermark(r.key())) {
                Watermark.read(r.headers()).ifPresent(w -> watermarks.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(w));
                continue;
            }
            InvalidationEvent event;
            try {
                event = EventJson.readInvalidation(r.value());
            } catch (SchemaViolationException e) {
                deadLetters.send(r, DlqReason.MALFORMED, e.getMessage(), e);
                continue;
            }
            Optional<Refusal> refusal = refusal(event);
            if (refusal.isPresent()) {
                deadLetters.send(r, refusal.get().reason(), refusal.get().message(), null);
                continue;
            }
            events.add(event);
            origins.put(event, r);
        }
        return new Admitted(events, origins, offsets, watermarks);
    }

    Optional<Refusal> refusal(InvalidationEvent e) {
        NamespaceConfig ns = namespaces.get(e.namespace());
        if (ns == null) {
            return Optional.of(new Refusal(DlqReason.UNKNOWN_NAMESPACE,
                    "unknown namespace '" + e.namespace() + "' (not in " + configFile + ")"));
        }
        if (e.scope() != Scope.PATTERN) {
            return Optional.empty();
        }
        if (Patterns.matchesEverything(e.pattern())) {
            return Optional.of(new Refusal(DlqReason.MATCH_ALL_PATTERN, "pattern '" + e.pattern() + "' matches every key in Redis"));
        }
        if (!ns.allowNamespaceWide() && ns.isNamespaceWide(e.pattern())) {
            return Optional.of(new Refusal(DlqReason.NAMESPACE_WIDE_PATTERN, "pattern '" + e.pattern() + "' covers all of namespace "
                    + ns.name() + "; set allow-namespace-wide: true on it to permit that"));
        }
        return Optional.empty();
    }
}
