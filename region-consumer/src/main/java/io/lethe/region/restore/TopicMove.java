package io.lethe.region.restore;

import io.lethe.schemas.Topics;
import io.lethe.schemas.Watermark;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 */
public final class TopicMove {
    private static final Logger LOG = LoggerFactory.getLogger(TopicMove.class);
    /** Redis hash {@code lethe:topic:<group>}, field {@code topic}: the topic this Redis was last fed from. */
    public static final String MARKER_PREFIX = "lethe:topic:";
    static final String FIELD = "topic";
    static final String RECEIVES = "receives";
    /** JSON object: for each namespace received, the globs that cover its keys (to clear it once it is no longer configured). */
    static final String GLOBS = "globs";
    /** JSON object: for each namespace received, its templates and patterns as text ({@code NamespaceConfig.keysRendered}). */
    static final String RENDERED = "rendered";
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Where the marker lives: the region's Redis. */
    public interface Marker {
        /** The topic and the namespaces received (empty when written before they were recorded). */
        Optional<Fed> read();

        void write(Fed fed);
    }

    /**
     * What a region's Redis was fed with: its topic, the namespaces the region received (sorted),
     * and the globs covering each one's keys (empty when written before they were recorded): a
     * namespace later removed from the configuration is cleared by them.
     */
    public record Fed(String topic, List<String> receives, Map<String, List<String>> globs, Map<String, List<String>> rendered) {
        public Fed {
            receives = receives == null ? List.of() : List.copyOf(new java.util.TreeSet<>(receives));
            globs = globs == null ? Map.of() : Map.copyOf(globs);
            rendered = rendered == null ? Map.of() : Map.copyOf(rendered);
        }

        public Fed(String topic, List<String> receives, Map<String, List<String>> globs) {
            this(topic, receives, globs, Map.of());
        }

        public Fed(String topic, List<String> receives) {
            this(topic, receives, Map.of());
        }

        /** The namespaces to invalidate wholesale for a move from {@code before} (null: not known) to this. */
        public List<String> invalidatedFor(Moved move, List<String> subscribed) {
            if (!move.toAnotherTopic()) {
                return move.changed();
            }
            // every namespace fed before or now: one no longer received (unsubscribed, or removed from the
            // configuration) gets no invalidation on the new topic, so what this Redis holds of it goes now
            java.util.TreeSet<String> all = new java.util.TreeSet<>(receives);
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
     * that one side lacks; empty for a move to another topic, where all of them are).
     */
    public record Moved(String from, String to, String foundBy, List<String> changed, Fed before) {
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

    /**
     * The move this region makes now, if any: the marker names another topic, or the same topic
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
            if (before.receives().isEmpty()) {
                return Optional.empty();
            }
            java.util.TreeSet<String> changed = new java.util.TreeSet<>(before.receives());
            changed.addAll(now.receives());
            java.util.Set<String> both = new java.util.HashSet<>(before.receives());
            both.retainAll(now.receives());
            changed.removeAll(both);
            // a namespace whose key templates changed: streams renders only the new keys, so entries of the old ones
            // (still filled by readers on the old configuration) would get no invalidation again
            java.util.TreeSet<String> rekeyed = new java.util.TreeSet<>();
            for (String ns : both) {
                if (differ(before.globs().get(ns), now.globs().get(ns)) || differ(before.rendered().get(ns), now.rendered().get(ns))) {
                    rekeyed.add(ns); // other globs, or the same globs of other templates (user:{id} -> user:{email})
                }
            }
            changed.addAll(rekeyed);
            if (changed.isEmpty()) {
                return Optional.empty();
            }
            String why = rekeyed.isEmpty() ? "" : "; keys changed of " + rekeyed;
            return Optional.of(new Moved(before.topic(), now.topic(), "the region's Redis (namespaces received " + before.receives()
                    + " -> " + now.receives() + why + ")", List.copyOf(changed), before));
        }
        try {
            Set<TopicPartition> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS).keySet();
            Optional<Moved> fromOffsets = committed.stream().map(TopicPartition::topic)
                    .filter(t -> !t.equals(now.topic()) && isInvalidationTopic(topics, t))
                    .findFirst().map(t -> new Moved(t, now.topic(), "the consumer group's offsets", List.of()));
            return Optional.of(fromOffsets.orElseGet(() -> new Moved(NOTHING, now.topic(), "the region's Redis, which records no topic "
                    + "(a first feed)", List.of())));
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot read the offsets of consumer group " + group + ": " + e.getCause(), e);
        }
    }

    /** Both recorded (a marker of an older version records neither) and not the same set. */
    private static boolean differ(List<String> was, List<String> is) {
        return was != null && is != null && !new java.util.HashSet<>(was).equals(new java.util.HashSet<>(is));
    }

    /** One of Lethe's invalidation topics of this prefix: the public one or a region's. */
    static boolean isInvalidationTopic(Topics topics, String topic) {
        String base = topics.invalidations();
        return topic.equals(base) || topic.startsWith(base + ".");
    }

    /**
     * Waits until streams writes {@code topic} as this configuration routes it: a watermark of
     * each of the {@code sources} changes partitions arrives on it after this call began, stamped
     * with {@code routes} ({@code LetheConfig.routes}) and, with a {@code key}, signed with it.
     *
     * @return the highest source position (LSN) of those watermarks: every change after it went to
     *         {@code topic}; empty when {@code stopped} ended the wait
     * @param waiting told, every minute of waiting, why the region does not start yet
     */
    public static java.util.OptionalLong awaitStreamsWriting(Supplier<Consumer<String, byte[]>> watcher, String topic, String routes,
                                                             byte[] key, IntSupplier sources, BooleanSupplier stopped,
                                                             java.util.function.Consumer<String> waiting) {
        try (Consumer<String, byte[]> c = watcher.get()) {
            List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(partitions);
            c.seekToEnd(partitions);
            partitions.forEach(c::position); // fix the start now: only what is written from here on counts
            Set<Integer> seen = new HashSet<>();
            long highest = 0;
            long start = System.nanoTime();
            long lastSaid = start;
            while (!stopped.getAsBoolean()) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (Watermark.isWatermark(r.key())) {
                        Optional<Watermark> w = Watermark.read(r.headers());
                        boolean ours = routes.equals(Watermark.routes(r.headers()).orElse(null))
                                && (key == null || w.isPresent() && w.get().verifies(r.headers(), key));
                        if (w.isPresent() && ours) {
                            seen.add(w.get().source());
                            highest = Math.max(highest, w.get().lsn());
                        }
                    }
                }
                int needed = sources.getAsInt();
                if (needed > 0 && seen.size() >= needed) {
                    return java.util.OptionalLong.of(highest);
                }
                if (System.nanoTime() - lastSaid > TimeUnit.MINUTES.toNanos(1)) {
                    lastSaid = System.nanoTime();
                    waiting.accept("waiting " + TimeUnit.NANOSECONDS.toSeconds(lastSaid - start) + " s for streams to write " + topic
                            + " as this configuration routes it (watermarks of " + seen.size() + " of " + needed + " channels, one per capture shard and changes partition, "
                            + "seen): no watermark yet (capture, or in source.mode debezium-topics the connector, sent none since: "
                            + "with debezium-topics one comes after the first change) or invalidation-streams runs another configuration");
                }
            }
            return java.util.OptionalLong.empty();
        }
    }

    /** The marker as a Redis hash (standalone, Sentinel or Cluster: one key): fields {@code topic} and {@code receives}. */
    public static Marker inRedis(io.lethe.region.redis.RegionRedis redis, String group) {
        String key = markerKey(group);
        return new Marker() {
            @Override
            public Optional<Fed> read() {
                Map<String, String> fields = redis.hashCommands().hgetall(key);
                String topic = fields.get(FIELD);
                if (topic == null) {
                    return Optional.empty();
                }
                String receives = fields.getOrDefault(RECEIVES, "");
                return Optional.of(new Fed(topic, receives.isEmpty() ? List.of() : List.of(receives.split(",")), globs(fields.get(GLOBS)),
                        globs(fields.get(RENDERED))));
            }

            @Override
            public void write(Fed fed) {
                try {
                    redis.hashCommands().hset(key, Map.of(FIELD, fed.topic(), RECEIVES, String.join(",", fed.receives()),
                            GLOBS, JSON.writeValueAsString(fed.globs()), RENDERED, JSON.writeValueAsString(fed.rendered())));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException("cannot write the globs of " + fed.receives(), e);
                }
            }
        };
    }

    /** The recorded globs, or none when absent or unreadable (a marker of an older version). */
    static Map<String, List<String>> globs(String json) {
        if (json == null || json.isEmpty()) {
            return Map.of();
        }
        try {
            return JSON.readValue(json, new com.fasterxml.jackson.core.type.TypeReference<Map<String, List<String>>>() { });
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            LOG.warn("the topic marker's globs are not readable ({}): a namespace removed from the configuration cannot be cleared by them",
                    e.getOriginalMessage());
            return Map.of();
        }
    }
}
