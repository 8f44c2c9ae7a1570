package io.lethe.region.apply;

import io.lethe.config.NamespaceConfig;
import java.time.Duration;
import java.util.Collection;
import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.schemas.Topics;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.TopicPartition;

/**
 * A region whose topic changed under it. A region's topic follows from the configuration (its
 * subscriptions, the other regions', which namespaces the public topic carries), so a change of
 * the configuration can move a running region to another topic: reading the new one from its
 * start would miss what the old one still held unapplied, and what streams still wrote to the old
 * one until it ran the new configuration too.
 *
 * <p>So, before the region's consumer joins its group: when the region's Redis says it was fed
 * from another topic ({@code lethe:topic:<group>}), or, where Redis says nothing, the group
 * committed offsets on another of Lethe's invalidation topics, the region waits until streams
 * writes the new topic as its own configuration routes it (a watermark of every changes
 * partition arrives there after this check began, stamped with {@code LetheConfig.routes}:
 * streams runs this configuration), then invalidates its namespaces wholesale, at the position of
 * those watermarks (older upserts a replay brings are applied as deletes), then reads the new
 * topic (from its start when the group never read it). The wholesale invalidation covers every
 * change committed before it, whichever topic its invalidation went to; everything after it is on
 * the new topic. The same topic with other namespaces received (a namespace gained was not
 * invalidated here until now) waits the same way and invalidates those namespaces only. A move
 * costs a cold cache once, never a stale entry. While it waits, the region is not ready and says why.
 *
 * <p>The marker also records the Kafka cluster the region reads ({@code Admin.describeCluster().clusterId()}).
 * A region moved onto a cluster of its own (a mirror), moved back, or reading a cluster rebuilt under
 * the same bootstrap address keeps its topic's name, but offsets, the checkpoint and what the log
 * still holds belong to the cluster they were taken on: another cluster id is a move like one to
 * another topic (every namespace invalidated wholesale once streams' watermarks arrive on the new
 * cluster, through the mirror where there is one). A marker written before the cluster was recorded
 * counts as this cluster's only when the group committed offsets of the topic on it.
 */
public final class TopicMove {
    /** Redis hash {@code lethe:topic:<group>}, field {@code topic}: the topic this Redis was last fed from. */
    public static final String MARKER_PREFIX = "lethe:topic:";
    static final String FIELD = "topic";
    static final String RECEIVES = "receives";
    /** The id of the Kafka cluster the topic was read on ({@code Admin.describeCluster().clusterId()}). */
    public static final String CLUSTER = "cluster";
    /** JSON object: for each namespace received, the globs that cover its keys (to clear it once it is no longer configured). */
    static final String GLOBS = "globs";
    /** JSON object: for each namespace received, its templates and patterns as text ({@code NamespaceConfig.keysRendered}). */
    static final String RENDERED = "rendered";
    /**
     * JSON object: for each namespace received, what its entries hold as text: table, version
     * source, mode, payload ({@code NamespaceConfig.holdsRendered}).
     */
    public static final String HOLDS = "holds";

    /** Where the marker lives: the region's Redis, beside each namespace's holds record ({@code RedisLayout.holdsKey}). */
    public interface Marker {
        /** The topic and the namespaces received (empty when written before they were recorded). */
        Optional<Fed> read();

        /** Records {@code fed}, and each namespace's holds where none are recorded ({@link RedisMarker} says why only there). */
        void write(Fed fed);

        /**
         * Records each received namespace's holds, replacing any, and {@code RedisLayout.NOT_RECEIVED} for each of
         * {@code invalidated} not received any more: before a move's, first feed's or restore's wholesale invalidation.
         */
        default void recordHolds(Fed fed, Collection<String> invalidated) {
        }
    }

    /**
     * What a region's Redis was fed with: its topic, the namespaces the region received (sorted),
     * and the globs covering each one's keys (empty when written before they were recorded): a
     * namespace later removed from the configuration is cleared by them; and the id of the Kafka
     * cluster the topic was read on (null when written before it was recorded); and what each
     * namespace's entries hold (table, version source, mode: empty when written before it was
     * recorded).
     */
    public record Fed(String topic, List<String> receives, Map<String, List<String>> globs, Map<String, List<String>> rendered,
            String cluster, Map<String, List<String>> holds) {
        public Fed {
            receives = receives == null ? List.of() : List.copyOf(new TreeSet<>(receives));
            globs = globs == null ? Map.of() : Map.copyOf(globs);
            rendered = rendered == null ? Map.of() : Map.copyOf(rendered);
            holds = holds == null ? Map.of() : Map.copyOf(holds);
        }

        public Fed(String topic, List<String> receives, Map<String, List<String>> globs, Map<String, List<String>> rendered,
                String cluster) {
            this(topic, receives, globs, rendered, cluster, Map.of());
        }

        public Fed(String topic, List<String> receives, Map<String, List<String>> globs, Map<String, List<String>> rendered) {
            this(topic, receives, globs, rendered, null);
        }

        public Fed(String topic, List<String> receives, Map<String, List<String>> globs) {
            this(topic, receives, globs, Map.of());
        }

        public Fed(String topic, List<String> receives) {
            this(topic, receives, Map.of());
        }

        /**
         * What the region records for readers of namespace {@code ns} ({@link NamespaceConfig#readerHolds(List, List)}): what
         * its entries hold, then its keys, as this record has them.
         */
        public List<String> readerHolds(String ns) {
            return NamespaceConfig.readerHolds(holds.getOrDefault(ns, List.of()), rendered.getOrDefault(ns, List.of()));
        }

        /** The namespaces to invalidate wholesale for a move from {@code before} (null: not known) to this. */
        public List<String> invalidatedFor(Moved move, List<String> subscribed) {
            if (!move.toAnotherTopic() && !move.toAnotherCluster()) {
                return move.changed();
            }
            // every namespace fed before or now: one no longer received (unsubscribed, or removed from the
            // configuration) gets no invalidation on the new topic, so what this Redis holds of it goes now
            TreeSet<String> all = new TreeSet<>(receives);
            all.addAll(subscribed);
            if (move.before() != null) {
                all.addAll(move.before().receives());
            }
            return List.copyOf(all);
        }
    }

    /**
     * A move found: from which topic, how it was found, and which namespaces to invalidate
     * wholesale ({@code changed}: every namespace the region received before or receives now
     * that one side lacks; empty for a move to another topic or cluster, where all of them are);
     * {@code toAnotherCluster}: the topic is read on another Kafka cluster than before.
     */
    public record Moved(String from, String to, String foundBy, List<String> changed, Fed before, boolean toAnotherCluster) {
        public Moved(String from, String to, String foundBy, List<String> changed, Fed before) {
            this(from, to, foundBy, changed, before, false);
        }

        public Moved(String from, String to, String foundBy, List<String> changed) {
            this(from, to, foundBy, changed, null);
        }

        /** Globs recorded for the namespaces fed before (to clear one no longer configured). */
        public Map<String, List<String>> formerGlobs() {
            return before == null ? Map.of() : before.globs();
        }

        public boolean toAnotherTopic() {
            return !from.equals(to);
        }

        /**
         * A first feed: the region's Redis records no topic (never fed by Lethe, emptied, or written
         * by a version before the marker), and the group read no other of Lethe's topics.
         */
        public boolean firstFeed() {
            return from.equals(NOTHING);
        }
    }

    /**
     * The {@code from} of a first feed. Entries such a Redis holds may have been filled before
     * capture's slot first existed (readers before Lethe's first start, a region added on a Redis
     * that already holds entries): no invalidation of a change before the slot exists anywhere, so
     * the region invalidates every namespace it receives wholesale once it applies its topic's
     * first watermark (which proves the slot existed before that moment), then records the marker.
     */
    public static final String NOTHING = "";

    private TopicMove() {
    }

    public static String markerKey(String group) {
        return MARKER_PREFIX + group;
    }

    /** What the region's Redis records it was fed with by consumer group {@code group}, if anything. */
    public static Optional<Fed> recorded(io.lethe.region.redis.RegionRedis redis, String group) {
        return RedisMarker.of(redis, group).read();
    }

    /**
     * The move this region makes now, if any: the marker names another topic, or the same topic
     * read on another Kafka cluster ({@code now.cluster()}; a marker that records no cluster counts
     * as this one's only when the group committed offsets of the topic here), or the same topic
     * with other namespaces received (a namespace gained was not invalidated here before; one
     * lost is not any more), or (no marker: a Redis never fed since this check exists, or
     * emptied) the group holds offsets of another of Lethe's invalidation topics; otherwise,
     * without a marker, a first feed ({@link Moved#firstFeed()}).
     */
    public static Optional<Moved> detect(Marker marker, Admin admin, String group, Topics topics, Fed now)
            throws InterruptedException {
        Optional<Fed> fed = marker.read();
        if (fed.isPresent()) {
            Fed before = fed.get();
            if (!before.topic().equals(now.topic())) {
                return Optional.of(new Moved(before.topic(), now.topic(), "the region's Redis", List.of(), before));
            }
            Optional<String> otherCluster = otherCluster(before, now, admin, group);
            if (otherCluster.isPresent()) {
                return Optional.of(new Moved(before.topic(), now.topic(), otherCluster.get(), List.of(), before, true));
            }
            if (before.receives().isEmpty()) {
                return Optional.empty();
            }
            TreeSet<String> rekeyed = FedDiff.rekeyed(before, now);
            TreeSet<String> changed = FedDiff.changed(before, now);
            if (changed.isEmpty()) {
                return Optional.empty();
            }
            String why = rekeyed.isEmpty() ? "" : "; keys or what entries hold changed of " + rekeyed;
            return Optional.of(new Moved(before.topic(), now.topic(), "the region's Redis (namespaces received " + before.receives()
                    + " -> " + now.receives() + why + ")", List.copyOf(changed), before));
        }
        Optional<Moved> fromOffsets = committed(admin, group).stream().map(TopicPartition::topic)
                .filter(t -> !t.equals(now.topic()) && isInvalidationTopic(topics, t))
                .findFirst().map(t -> new Moved(t, now.topic(), "the consumer group's offsets", List.of()));
        return Optional.of(fromOffsets.orElseGet(() -> new Moved(NOTHING, now.topic(), "the region's Redis, which records no topic "
                + "(a first feed)", List.of())));
    }

    /**
     * Why the topic the marker names is read on another Kafka cluster now, if it is: the marker
     * records another cluster id, or records none (written before it was recorded) while the group
     * holds no offset of the topic on this cluster (it never read the topic here, or its offsets
     * are gone: either way nothing here says where its reading stopped).
     */
    private static Optional<String> otherCluster(Fed before, Fed now, Admin admin, String group) throws InterruptedException {
        if (now.cluster() == null) {
            return Optional.empty(); // not known: nothing to compare (only tests of the other checks pass none)
        }
        if (before.cluster() != null) {
            return before.cluster().equals(now.cluster())
                    ? Optional.empty()
                    : Optional
                            .of("the region's Redis (Kafka cluster " + before.cluster() + " -> " + now.cluster() + ", topic " + now.topic()
                                    + " kept its name)");
        }
        boolean readHere = committed(admin, group).stream().anyMatch(tp -> tp.topic().equals(now.topic()));
        return readHere
                ? Optional.empty()
                : Optional.of("the region's Redis, which records no Kafka cluster, while consumer group "
                        + group + " holds no offset of " + now.topic() + " on cluster " + now.cluster());
    }

    private static Set<TopicPartition> committed(Admin admin, String group) throws InterruptedException {
        try {
            return GroupOffsets.committed(admin, group, Duration.ofSeconds(30)).keySet();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the offsets of consumer group " + group + ": " + e.getCause(), e);
        }
    }

    /**
     * The id of the Kafka cluster {@code admin} talks to ({@code Admin.describeCluster().clusterId()}).
     *
     * @throws IllegalStateException when the cluster does not answer in time or has no id
     */
    public static String clusterId(Admin admin) throws InterruptedException {
        try {
            String id = admin.describeCluster().clusterId().get(30, TimeUnit.SECONDS);
            if (id == null || id.isEmpty()) {
                throw new IllegalStateException("the Kafka cluster reports no cluster id");
            }
            return id;
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the Kafka cluster's id: " + e.getCause(), e);
        }
    }

    /** One of Lethe's invalidation topics of this prefix: the public one or a region's. */
    static boolean isInvalidationTopic(Topics topics, String topic) {
        String base = topics.invalidations();
        return topic.equals(base) || topic.startsWith(base + ".");
    }
}
