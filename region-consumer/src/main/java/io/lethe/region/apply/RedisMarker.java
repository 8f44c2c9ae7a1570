package io.lethe.region.apply;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.RedisLayout;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a region's {@link TopicMove.Marker} is kept: a hash in its Redis; and beside it, per namespace received,
 * what its entries hold ({@code RedisLayout.holdsKey}, read by readers declared with their configuration).
 *
 * <p>The holds are recorded, replacing what was there, before the wholesale invalidation of a move, a first feed or
 * a restored marker ({@link TopicMove.Marker#recordHolds}; a namespace it clears because the region no longer receives
 * it gets {@code RedisLayout.NOT_RECEIVED}, so readers on the old file stop filling it here), never by an instance whose view differs from the marker
 * (it holds, {@link MarkerView}, and writes nothing). A marker written without a move (a start-up that found the
 * marker matching, a write completed later) records none: another instance of the group may have recorded new holds
 * for a move whose wholesale invalidation runs now, with the marker still the old one, and putting the old holds back
 * would let readers on the old configuration fill entries after that scan passed (such a difference is logged; the
 * mover's own record stands); and a record found absent was lost (evicted, deleted, a failover) while readers on any
 * file filled the namespace, which only a wholesale invalidation after the record clears ({@link HoldsReconciler},
 * once this marker is written).
 */
final class RedisMarker {
    private static final Logger LOG = LoggerFactory.getLogger(RedisMarker.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private RedisMarker() {
    }

    /** The marker as a Redis hash (standalone, Sentinel or Cluster: one key): fields {@code topic}, {@code receives}, {@code cluster}, .... */
    static TopicMove.Marker of(RegionRedis redis, String group) {
        String key = TopicMove.markerKey(group);
        return new TopicMove.Marker() {
            @Override
            public Optional<TopicMove.Fed> read() {
                Map<String, String> fields = redis.hashCommands().hgetall(key);
                String topic = fields.get(TopicMove.FIELD);
                if (topic == null) {
                    return Optional.empty();
                }
                String receives = fields.getOrDefault(TopicMove.RECEIVES, "");
                return Optional.of(new TopicMove.Fed(topic, receives.isEmpty() ? List.of() : List.of(receives.split(",")),
                        globs(fields.get(TopicMove.GLOBS)),
                        globs(fields.get(TopicMove.RENDERED)), fields.get(TopicMove.CLUSTER), globs(fields.get(TopicMove.HOLDS))));
            }

            @Override
            public void write(TopicMove.Fed fed) {
                try {
                    Map<String, String> fields = new HashMap<>(
                            Map.of(TopicMove.FIELD, fed.topic(), TopicMove.RECEIVES, String.join(",", fed.receives()),
                                    TopicMove.GLOBS, JSON.writeValueAsString(fed.globs()), TopicMove.RENDERED,
                                    JSON.writeValueAsString(fed.rendered()), TopicMove.HOLDS, JSON.writeValueAsString(fed.holds())));
                    if (fed.cluster() != null) {
                        fields.put(TopicMove.CLUSTER, fed.cluster());
                    }
                    redis.hashCommands().hset(key, fields);
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException("cannot write the globs of " + fed.receives(), e);
                }
                Map<String, String> recorded = redis.namespaceMarks().holds(fed.receives());
                fed.receives().forEach(ns -> {
                    String holds = RedisLayout.holds(fed.readerHolds(ns));
                    // none recorded: left to HoldsReconciler, which records it and then invalidates the namespace wholesale
                    // (lost while the region was down, readers on any file filled it meanwhile; written here it would not be)
                    String other = recorded.containsKey(ns) && !recorded.get(ns).equals(holds) ? recorded.get(ns) : null;
                    clearIntent(redis, ns, holds);
                    if (other != null) {
                        LOG.warn("namespace {}: the region's Redis records that its entries hold '{}' ({}), this configuration "
                                + "says '{}', while the topic marker records this configuration: another instance of the group "
                                + "may be moving the namespace now (it records the new holds before its wholesale invalidation), "
                                + "or one stopped during its move. Left as it is: readers declared with this configuration refuse "
                                + "their fills until the instance on the other configuration completes its move, or, if none "
                                + "will, until the key is deleted and an instance restarted", ns, other,
                                RedisLayout.holdsKey(ns), holds);
                    }
                });
            }

            @Override
            public void recordHolds(TopicMove.Fed fed, Collection<String> invalidated) {
                fed.receives().forEach(ns -> redis.namespaceMarks().recordHolds(ns,
                        RedisLayout.holds(fed.readerHolds(ns))));
                // no invalidation of these reaches this Redis any more: a reader still declared with one must not fill it
                invalidated.stream().filter(ns -> !fed.receives().contains(ns))
                        .forEach(ns -> redis.namespaceMarks().recordHolds(ns, RedisLayout.NOT_RECEIVED));
            }
        };
    }

    /**
     * The marker records these holds now: a move's intent for them has done its part (an intent of the holds an instance
     * reconciles to never stops it, {@link HoldsReconciler}); one not deleted here expires.
     */
    private static void clearIntent(RegionRedis redis, String ns, String holds) {
        try {
            redis.namespaceMarks().clearIntent(ns, holds);
        } catch (RuntimeException e) {
            LOG.debug("namespace {}: the move's intent beside its holds record is left to expire ({})", ns, e.toString());
        }
    }

    /** The recorded globs, or none when absent or unreadable (a marker of an older version). */
    static Map<String, List<String>> globs(String json) {
        if (json == null || json.isEmpty()) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, new TypeReference<Map<String, List<String>>>() {
            });
        } catch (JsonProcessingException e) {
            LOG.warn("the topic marker's globs are not readable ({}): a namespace removed from the configuration cannot be cleared by them",
                    e.getOriginalMessage());
            return Map.of();
        }
    }
}
