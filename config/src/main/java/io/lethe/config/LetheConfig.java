package io.lethe.config;

import io.lethe.schemas.SourceTable;
import io.lethe.schemas.Topics;
import java.util.List;
import java.util.Map;

/**
 * A validated {@code lethe.yml}. Build one with {@link ConfigLoader}.
 *
 * @param file       where it was read from (for messages)
 * @param source     the PostgreSQL primary
 * @param kafka      the Kafka cluster
 * @param regions    regions by name, in file order
 * @param namespaces namespaces by name, in file order
 * @param streams    invalidation-streams settings
 * @param apply      region-consumer settings
 * @param http       metrics and health endpoint
 * @param metrics    metrics export besides the endpoint (OTLP)
 * @param tracing    trace context and spans from capture to the region apply (OTLP)
 */
public record LetheConfig(String file, SourceConfig source, KafkaConfig kafka, Map<String, RegionConfig> regions,
        Map<String, NamespaceConfig> namespaces, StreamsConfig streams, ApplyConfig apply,
        HttpConfig http, MetricsConfig metrics, TracingConfig tracing) {

    public LetheConfig {
        regions = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(regions));
        namespaces = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(namespaces));
        metrics = metrics == null ? MetricsConfig.NONE : metrics;
        tracing = tracing == null ? TracingConfig.NONE : tracing;
    }

    /**
     * How much younger than its namespace's {@code fence-ttl} an upsert's commit must be for a region
     * to write it (issue 34, replay): {@code source.heartbeat-interval + apply.command-timeout} plus
     * {@link Defaults#CLOCK_ALLOWANCE}. The fence of any later change of the row was left no earlier
     * than that change's commit, so it lives at least until the upsert's commit plus fence-ttl: while
     * the upsert is younger than {@link #upsertMaxAge}, a copy of an older record still finds that fence.
     * The margin covers the clocks of the primary and the region (the allowance), a script Redis runs up
     * to a command timeout after the check, and one heartbeat interval, so the partition's replay floor
     * (which passes a change one heartbeat plus the lag after its commit) passes it before its fence expires.
     */
    public java.time.Duration upsertAgeMargin() {
        return upsertAgeMargin(source.heartbeatInterval(), apply.commandTimeout());
    }

    static java.time.Duration upsertAgeMargin(java.time.Duration heartbeatInterval, java.time.Duration commandTimeout) {
        return heartbeatInterval.plus(commandTimeout).plus(Defaults.CLOCK_ALLOWANCE);
    }

    /**
     * The oldest an upsert of {@code ns} may be (from its commit to the moment a region applies it)
     * and still be written: {@code fence-ttl} minus {@link #upsertAgeMargin}; an older one is applied
     * as the delete at its version. Positive for every {@code mode: upsert} namespace (validated).
     */
    public java.time.Duration upsertMaxAge(NamespaceConfig ns) {
        return ns.fenceTtl().minus(upsertAgeMargin());
    }

    /**
     * The topic names, with each region's topic decided by its subscriptions alone: a region
     * subscribed to every namespace reads the public topic when that topic is complete (every
     * namespace on it, every upsert with its payload: {@link #publicTopicComplete}); any other
     * region reads {@code <prefix>.invalidations.subs-<fingerprint>}, named by the set of
     * namespaces it subscribes to ({@link #subscriptionTopic}), which regions with the same
     * subscriptions share. Neither the order of the regions in the file nor which other regions
     * exist changes a region's topic: adding, removing or reordering regions moves nobody; only a
     * change of a region's own subscriptions (or of the public topic's completeness) does, and
     * the region's {@code TopicMove} handles that at its start ({@code lethe config --check
     * --against} says beforehand what a change moves).
     */
    public Topics topics() {
        Topics plain = kafka.topics();
        boolean complete = publicTopicComplete();
        Map<String, String> shared = new java.util.LinkedHashMap<>();
        for (RegionConfig region : regions.values()) {
            // named by subscription, not by what a region receives (receives() follows from it): a region's
            // topic does not change when namespaces that overlap its own are added or changed
            java.util.Set<String> subscribed = java.util.Set.copyOf(region.namespaces());
            shared.put(region.name(), complete && subscribed.equals(namespaces.keySet())
                    ? plain.invalidations()
                    : subscriptionTopic(plain, subscribed));
        }
        return new Topics(plain.prefix(), shared);
    }

    /** The topic of the regions subscribed to exactly {@code subscribed}: a fingerprint of the sorted names. */
    static String subscriptionTopic(Topics plain, java.util.Set<String> subscribed) {
        return plain.invalidations() + ".subs-"
                + fingerprint("lethe.subscriptions/v1|" + String.join(",", new java.util.TreeSet<>(subscribed)));
    }

    /** The first 8 bytes of the SHA-256 of {@code text}, hex: the one fingerprint of topics, routes and upserts' holds. */
    static String fingerprint(String text) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /**
     * True when the public topic carries every invalidation as the regions apply it: no namespace
     * is kept off it ({@code public-topic: false}) and no upsert loses its payload there
     * ({@code public-payloads: false}). Only then can a region subscribed to every namespace read it.
     */
    public boolean publicTopicComplete() {
        return namespaces.values().stream().allMatch(NamespaceConfig::publicTopicComplete);
    }

    /**
     * What {@code topic} carries, as a short fingerprint: the sorted namespaces whose
     * invalidations streams sends there (for the public topic, every namespace on it, marked
     * when its upserts lose their payload there; for a region's topic, everything its regions
     * receive). Streams stamps it on the watermarks it writes to the topic ({@code
     * lethe.watermark.routes}), so a region can tell that streams runs the configuration it runs
     * (see the region's {@code TopicMove}).
     */
    public String routes(String topic) {
        java.util.TreeSet<String> carried = new java.util.TreeSet<>();
        if (topic.equals(kafka.topics().invalidations())) {
            namespaces.values().stream().filter(NamespaceConfig::publicTopic)
                    .forEach(n -> carried.add(n.name() + (n.publicPayloads() ? "" : "/stripped")));
        } else {
            Topics topics = topics();
            regions.values().stream().filter(r -> topics.invalidations(r.name()).equals(topic)).forEach(r -> carried.addAll(receives(r)));
        }
        // with each namespace's key templates and patterns (and the key format): a streams instance still rendering another
        // configuration's keys does not write what this one routes (a region waiting for proof after a template change
        // must not take its watermarks)
        java.util.List<String> rendered = new java.util.ArrayList<>();
        for (String c : carried) {
            String name = c.endsWith("/stripped") ? c.substring(0, c.length() - "/stripped".length()) : c;
            NamespaceConfig n = namespaces.get(name);
            rendered.add(c + (n == null ? "" : "=" + String.join(";", n.keysRendered()) + "|" + String.join(";", n.holdsRendered())));
        }
        // v3: with what each namespace's entries hold (table, version source, mode, payload), so a region invalidating a
        // namespace whose versions come from elsewhere now waits for a streams that sends the new versions
        return fingerprint("lethe.routes/v3|" + String.join(",", rendered));
    }

    /**
     * The namespaces whose invalidations a region receives, in file order: those it subscribes to,
     * and every other whose keys or patterns may overlap a glob of one it subscribes to. A region
     * that caches {@code shared:list:*} for {@code n0} holds keys another namespace declaring the
     * same pattern (or a template its glob matches) invalidates: without that namespace's events
     * those keys would outlive its changes, so subscribing to a namespace means receiving every
     * invalidation that can reach its keys.
     */
    public List<String> receives(RegionConfig region) {
        List<NamespaceConfig> subscribed = region.namespaces().stream().map(namespaces::get).filter(java.util.Objects::nonNull).toList();
        return namespaces.values().stream()
                .filter(x -> region.namespaces().contains(x.name()) || subscribed.stream().anyMatch(x::overlaps))
                .map(NamespaceConfig::name).toList();
    }

    /** The namespaces fed by {@code schema.table}, in file order. */
    public List<NamespaceConfig> namespacesForTable(String qualifiedTable) {
        return namespaces.values().stream().filter(n -> n.table().equals(qualifiedTable)).toList();
    }

    /** The source table a configured name ({@code schema.table}, as {@link #tables()} lists them) names, in this source's database. */
    public SourceTable sourceTable(String qualified) {
        int dot = qualified.indexOf('.');
        return new SourceTable(source().database(), qualified.substring(0, dot), qualified.substring(dot + 1));
    }

    /** Every configured table, once, in file order. */
    public List<String> tables() {
        return namespaces.values().stream().map(NamespaceConfig::table).distinct().toList();
    }

    /**
     * This configuration as capture shard {@code name} sees it ({@code lethe run --role
     * capture:<name>}): the source's slot and publication are the shard's, and only the namespaces
     * of the shard's tables are configured, so everything capture derives from them (the tables it
     * reads, the publication it keeps, the namespaces a lost slot or a drift resets) is the shard's.
     *
     * @throws IllegalArgumentException when no such shard is configured
     */
    public LetheConfig forShard(String name) {
        SourceConfig view = source.withShard(name);
        java.util.Set<String> tables = java.util.Set.copyOf(source.shards().get(name).tables());
        Map<String, NamespaceConfig> own = new java.util.LinkedHashMap<>();
        namespaces.forEach((n, ns) -> {
            if (tables.contains(ns.table())) {
                own.put(n, ns);
            }
        });
        return new LetheConfig(file, view, kafka, regions, own, streams, apply, http, metrics, tracing);
    }

    /**
     * What a capture running this configuration captures, as a short fingerprint of the sorted
     * tables of its namespaces, each with the names of its namespaces (the ones its resets name; a
     * capture shard's view, {@link #forShard}, has only the shard's):
     * stamped on its watermarks ({@code Watermark.CAPTURES}) and compared by streams with
     * {@link #capturesOf}.
     */
    public String captures() {
        java.util.List<String> each = new java.util.ArrayList<>();
        for (String table : new java.util.TreeSet<>(tables())) {
            each.add(table + "=" + String.join("+", new java.util.TreeSet<>(
                    namespacesForTable(table).stream().map(NamespaceConfig::name).toList())));
        }
        return fingerprint("lethe.captures/v1|" + String.join(",", each));
    }

    /** {@link #captures()} of the capture of shard {@code shard} (null or "": a single capture) under this configuration. */
    public String capturesOf(String shard) {
        return shard == null || shard.isEmpty() ? captures() : forShard(shard).captures();
    }

    /** The capture shard whose tables include {@code table}, or "" (a single capture, or a table no shard lists). */
    public String shardOf(String table) {
        return source.shards().entrySet().stream().filter(e -> e.getValue().tables().contains(table)).map(Map.Entry::getKey)
                .findFirst().orElse("");
    }

    /** How many shards write watermarks: one per capture shard, one for a single capture. */
    public int shardCount() {
        return source.shardOrder().size();
    }

    /**
     * The watermark channel of shard {@code shard}'s heartbeats through changes partition
     * {@code partition}: {@code partition * shardCount() + index of the shard}, so a single capture's
     * channel is its partition, and adding changes partitions keeps every channel's number. Every
     * stage that aggregates watermarks takes the oldest over channels {@code 0 .. partitions *
     * shardCount() - 1}: one per (shard, changes partition). -1 when {@code shard} is not a
     * configured shard (null or "" stands for a single capture's).
     */
    public int watermarkChannel(String shard, int partition) {
        return watermarkChannel(source.shardOrder(), shard, partition);
    }

    /** {@link #watermarkChannel(String, int)} under the shards {@code shardOrder} ({@code SourceConfig#shardOrder}); -1 for a negative partition too. */
    public static int watermarkChannel(java.util.List<String> shardOrder, String shard, int partition) {
        int index = shardOrder.indexOf(shard == null ? "" : shard);
        return index < 0 || partition < 0 ? -1 : partition * shardOrder.size() + index;
    }

    public RegionConfig region(String name) {
        RegionConfig region = regions.get(name);
        if (region == null) {
            throw new IllegalArgumentException("no region '" + name + "' in " + file + "; configured: " + regions.keySet());
        }
        return region;
    }
}
