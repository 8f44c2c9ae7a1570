package io.lethe.config;

import java.time.Duration;

/**
 * The PostgreSQL primary that cdc-capture reads.
 *
 * @param jdbcUrl           {@code jdbc:postgresql://host:port/database}
 * @param user              a role with REPLICATION (and CREATE on the database to manage the publication)
 * @param password          from the environment; never logged
 * @param slot              logical replication slot name
 * @param publication       publication name
 * @param createPublication create the publication (filtered to the configured tables) when missing
 * @param heartbeatInterval how often capture writes its heartbeat row so the slot advances when idle
 * @param heartbeatTable    the table the heartbeat writes (created when missing)
 * @param pollInterval      how long capture waits for more WAL when idle
 * @param maxBatchSize      most changes handed to the publisher at once
 * @param maxQueueSize      most changes buffered between WAL reader and publisher
 * @param region            the region this database lives in, carried as originRegion (optional)
 * @param debezium          extra Debezium connector properties
 * @param readerUser        the role that only reads the primary (the replica gate's position reads, {@code lethe invalidate},
 *                          {@code lethe inspect}); null for {@code user}
 * @param readerPassword    its password; null with a null readerUser
 * @param debeziumTopics    with {@code mode: debezium-topics}, the existing connector's topics Lethe reads instead of
 *                          capturing; null when Lethe captures itself ({@code mode: capture}, the default)
 * @param shards            capture shards by name, in file order ({@code source.shards}); empty for one capture reading
 *                          {@code slot} through {@code publication}
 * @param shard             the shard this view of the source captures ({@link LetheConfig#forShard}): {@code slot} and
 *                          {@code publication} are then its own; null otherwise
 */
public record SourceConfig(String jdbcUrl, String user, Secret password, String slot, String publication,
        boolean createPublication, Duration heartbeatInterval, String heartbeatTable,
        Duration pollInterval, int maxBatchSize, int maxQueueSize, String region,
        java.util.Map<String, String> debezium, String readerUser, Secret readerPassword,
        DebeziumTopicsConfig debeziumTopics, java.util.Map<String, ShardConfig> shards, String shard) {

    /**
     * Debezium properties Lethe sets itself (capture's EngineProperties), which {@code source.debezium}
     * may not override: the connection (from {@code jdbc-url}, {@code user}, {@code password}), the
     * slot, publication and offsets Lethe manages, and the shape of the records it maps.
     */
    public static final java.util.Set<String> LETHE_OWNED_DEBEZIUM = java.util.Set.of("name", "connector.class", "topic.prefix",
            "database.hostname", "database.port", "database.dbname", "database.user", "database.password", "database.tcpKeepAlive",
            "plugin.name", "slot.name", "slot.drop.on.stop", "publication.name", "publication.autocreate.mode", "snapshot.mode",
            "skipped.operations", "decimal.handling.mode", "unavailable.value.placeholder", "provide.transaction.metadata",
            "heartbeat.interval.ms", "heartbeat.action.query", "poll.interval.ms", "max.batch.size", "max.queue.size",
            "errors.max.retries", "bootstrap.servers", "record.processing.order", "tombstones.on.delete",
            // the encodings key rendering rebuilds PostgreSQL's text from (capture's ConnectText)
            "time.precision.mode", "binary.handling.mode", "interval.handling.mode", "hstore.handling.mode", "include.unknown.datatypes",
            "converters");
    /** Prefixes of Debezium properties {@code source.debezium} may not set, for the same reasons. */
    public static final java.util.List<String> LETHE_OWNED_DEBEZIUM_PREFIXES = java.util.List.of("database.ssl", "driver.",
            "offset.", "table.", "column.", "schema.include", "schema.exclude", "message.key.columns", "transforms", "predicates",
            "key.converter", "value.converter", "header.converter", "datatype.");

    /** True when Lethe sets {@code property} itself, so {@code source.debezium} may not. */
    public static boolean isLetheOwned(String property) {
        return LETHE_OWNED_DEBEZIUM.contains(property) || LETHE_OWNED_DEBEZIUM_PREFIXES.stream().anyMatch(property::startsWith);
    }

    public SourceConfig {
        debezium = debezium == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(debezium));
        shards = shards == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(shards));
    }

    /** A source without capture shards. */
    public SourceConfig(String jdbcUrl, String user, Secret password, String slot, String publication, boolean createPublication,
            Duration heartbeatInterval, String heartbeatTable, Duration pollInterval, int maxBatchSize, int maxQueueSize,
            String region, java.util.Map<String, String> debezium, String readerUser, Secret readerPassword,
            DebeziumTopicsConfig debeziumTopics) {
        this(jdbcUrl, user, password, slot, publication, createPublication, heartbeatInterval, heartbeatTable, pollInterval, maxBatchSize,
                maxQueueSize, region, debezium, readerUser, readerPassword, debeziumTopics, null, null);
    }

    /** True when capture is split into shards ({@code source.shards}). */
    public boolean sharded() {
        return !shards.isEmpty();
    }

    /**
     * The shards' names in the order watermark channels number them: sorted, so every stage numbers
     * them alike whatever the file's order. A single capture is one unnamed shard: {@code [""]}.
     */
    public java.util.List<String> shardOrder() {
        return shards.isEmpty() ? java.util.List.of("") : java.util.List.copyOf(new java.util.TreeSet<>(shards.keySet()));
    }

    /** This source as shard {@code name} captures it: the shard's slot and publication. */
    public SourceConfig withShard(String name) {
        ShardConfig s = shards.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no capture shard '" + name + "'; configured: " + shards.keySet());
        }
        return new SourceConfig(jdbcUrl, user, password, s.slot(), s.publication(), createPublication, heartbeatInterval, heartbeatTable,
                pollInterval, maxBatchSize, maxQueueSize, region, debezium, readerUser, readerPassword, debeziumTopics, shards, name);
    }

    /** A source Lethe captures itself. */
    public SourceConfig(String jdbcUrl, String user, Secret password, String slot, String publication, boolean createPublication,
            Duration heartbeatInterval, String heartbeatTable, Duration pollInterval, int maxBatchSize, int maxQueueSize,
            String region, java.util.Map<String, String> debezium, String readerUser, Secret readerPassword) {
        this(jdbcUrl, user, password, slot, publication, createPublication, heartbeatInterval, heartbeatTable, pollInterval, maxBatchSize,
                maxQueueSize, region, debezium, readerUser, readerPassword, null, null, null);
    }

    /** True when Lethe reads an existing Debezium connector's topics instead of capturing ({@code mode: debezium-topics}). */
    public boolean readsDebeziumTopics() {
        return debeziumTopics != null;
    }

    /** The role that reads the primary without capturing: {@code reader-user}, else capture's {@code user}. */
    public String reader() {
        return readerUser != null ? readerUser : user;
    }

    /** The password of {@link #reader()}. */
    public Secret readerSecret() {
        return readerUser != null ? readerPassword : password;
    }

    /** The database name at the end of the JDBC URL. */
    public String database() {
        return JdbcUrls.database(jdbcUrl);
    }

    /** Credentials in the JDBC URL's parameters are masked; the password is a {@link Secret}. */
    @Override
    public String toString() {
        return "SourceConfig[jdbcUrl=" + JdbcUrls.forDisplay(jdbcUrl) + ", user=" + user + ", password=" + password + ", slot=" + slot
                + ", publication=" + publication + ", createPublication=" + createPublication + ", heartbeatInterval="
                + heartbeatInterval + ", heartbeatTable=" + heartbeatTable + ", pollInterval=" + pollInterval + ", maxBatchSize="
                + maxBatchSize + ", maxQueueSize=" + maxQueueSize + ", region=" + region
                // values may hold secrets: only the names
                + ", debezium=" + debezium.keySet() + ", readerUser=" + readerUser + ", readerPassword=" + readerPassword
                + ", debeziumTopics=" + debeziumTopics
                + ", shards=" + shards + ", shard=" + shard + "]";
    }
}
