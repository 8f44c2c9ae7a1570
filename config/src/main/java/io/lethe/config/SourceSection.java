package io.lethe.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code source}: the PostgreSQL primary, Lethe's capture (slot, publication, Debezium
 * properties) or {@code mode: debezium-topics}'s existing connector, and {@code source.shards}.
 */
final class SourceSection {
    private static final Pattern SHARD = Pattern.compile("[a-z0-9][a-z0-9-]{0,39}");

    private SourceSection() {
    }

    static SourceConfig read(YamlSection s) {
        if (!s.isPresent()) {
            s.error(s.path(), "is required: the PostgreSQL primary (jdbc-url, user, password, slot, publication)");
        }
        String jdbcUrl = s.requiredString("jdbc-url", "jdbc:postgresql://host:port/database");
        if (jdbcUrl != null && !JdbcUrls.isPostgres(jdbcUrl)) {
            s.error(s.child("jdbc-url"), "expected jdbc:postgresql://host:port/database, found '" + jdbcUrl + "'");
        }
        String user = s.requiredString("user", "a PostgreSQL role with the REPLICATION attribute");
        Secret password = s.secret("password");
        String slot = identifier(s, "slot", Defaults.SLOT);
        String publication = identifier(s, "publication", Defaults.PUBLICATION);
        Map<String, ShardConfig> shards = shards(s);
        if (!shards.isEmpty()) {
            for (String single : List.of("slot", "publication")) {
                if (s.has(single)) {
                    s.error(s.child(single), "is each shard's own with source.shards (source.shards.<shard>." + single + "); remove it");
                }
            }
        }
        boolean create = s.bool("create-publication", Defaults.CREATE_PUBLICATION);
        Duration heartbeat = ConfigLoader.positive(s, "heartbeat-interval", Defaults.HEARTBEAT_INTERVAL);
        String heartbeatTable = ConfigLoader.table(s, "heartbeat-table", s.string("heartbeat-table", Defaults.HEARTBEAT_TABLE));
        Duration poll = ConfigLoader.positive(s, "poll-interval", Defaults.POLL_INTERVAL);
        int batch = s.integer("max-batch-size", Defaults.MAX_BATCH_SIZE, 1, 1_000_000);
        int queue = s.integer("max-queue-size", Defaults.MAX_QUEUE_SIZE, 2, 10_000_000);
        if (queue <= batch) {
            s.error(s.child("max-queue-size"), "must be greater than max-batch-size (" + batch + "), found " + queue);
        }
        String region = s.string("region", null);
        Map<String, String> debezium = s.stringMap("debezium");
        for (String property : debezium.keySet()) {
            if (SourceConfig.isLetheOwned(property)) {
                s.error(s.child("debezium") + "." + property, "is set by Lethe (the connection comes from jdbc-url, user and password, "
                        + "TLS from jdbc-url's parameters; the slot, publication, offsets and record shape are Lethe's, and key "
                        + "rendering reads the value encodings Lethe chose); remove it");
            }
        }
        String readerUser = s.string("reader-user", null);
        Secret readerPassword = s.secret("reader-password");
        if (readerUser == null && readerPassword != null) {
            s.error(s.child("reader-user"), "is required with reader-password: the role that only reads the primary");
        }
        String mode = s.string("mode", Defaults.SOURCE_MODE);
        DebeziumTopicsConfig topics = null;
        if ("debezium-topics".equals(mode)) {
            topics = debeziumTopics(s.section("debezium-topics"), s);
            if (!debezium.isEmpty()) {
                s.error(s.child("debezium"), "configures Lethe's own capture, which mode debezium-topics does not run; configure the "
                        + "existing connector itself");
            }
        } else if (!"capture".equals(mode)) {
            s.error(s.child("mode"), "expected capture or debezium-topics, found '" + mode + "'");
        } else if (s.has("debezium-topics")) {
            s.error(s.child("debezium-topics"), "is only read with mode: debezium-topics");
        }
        if (topics != null && !shards.isEmpty()) {
            s.error(s.child("shards"), "splits Lethe's own capture, which mode debezium-topics does not run; remove it");
        }
        s.finish("mode, jdbc-url, user, password, slot, publication, create-publication, heartbeat-interval, "
                + "heartbeat-table, poll-interval, max-batch-size, max-queue-size, region, debezium, reader-user, reader-password, "
                + "debezium-topics, shards");
        return new SourceConfig(jdbcUrl, user, password, slot, publication, create, heartbeat, heartbeatTable,
                poll, batch, queue, region, debezium, readerUser, readerPassword, topics, shards, null);
    }

    /** {@code source.shards}: each shard's slot, publication and tables; names, slots and publications distinct. */
    private static Map<String, ShardConfig> shards(YamlSection source) {
        Map<String, YamlSection> sections = source.sections("shards");
        Map<String, ShardConfig> out = new LinkedHashMap<>();
        Map<String, String> slots = new LinkedHashMap<>();
        Map<String, String> publications = new LinkedHashMap<>();
        for (Map.Entry<String, YamlSection> e : sections.entrySet()) {
            String name = e.getKey();
            YamlSection s = e.getValue();
            if (!SHARD.matcher(name).matches()) {
                s.error(s.path(), "shard names use lower-case letters, digits and '-' (at most 40; the role capture:<name> runs one)");
            }
            String slot = s.requiredString("slot", "the shard's own logical replication slot");
            if (slot != null && !slot.matches("[a-z_][a-z0-9_]{0,62}")) {
                s.error(s.child("slot"), "expected a lower-case PostgreSQL identifier (a-z, 0-9, _; at most 63), found '" + slot + "'");
            } else if (slot != null && slots.putIfAbsent(slot, name) != null) {
                s.error(s.child("slot"), "slot " + slot + " is shard " + slots.get(slot) + "'s already: one slot has one reader, "
                        + "so each shard needs its own");
            }
            String publication = s.requiredString("publication", "the shard's own publication (of its tables)");
            if (publication != null && !publication.matches("[a-z_][a-z0-9_]{0,62}")) {
                s.error(s.child("publication"), "expected a lower-case PostgreSQL identifier (a-z, 0-9, _; at most 63), found '"
                        + publication + "'");
            } else if (publication != null && publications.putIfAbsent(publication, name) != null) {
                s.error(s.child("publication"), "publication " + publication + " is shard " + publications.get(publication)
                        + "'s already: each shard keeps its own, of its own tables");
            }
            List<String> tables = new ArrayList<>();
            List<String> given = s.strings("tables", List.of());
            if (given.isEmpty()) {
                s.error(s.child("tables"), "is required: the shard's tables (schema.table), each configured by a namespace");
            }
            for (int i = 0; i < given.size(); i++) {
                String t = given.get(i);
                if (!ConfigLoader.TABLE.matcher(t).matches()) {
                    s.error(s.child("tables") + "[" + i + "]", "expected schema.table (e.g. public.products), found '" + t + "'");
                } else {
                    tables.add(t.contains(".") ? t : "public." + t);
                }
            }
            s.finish("slot, publication, tables");
            out.put(name, new ShardConfig(name, slot, publication, tables));
        }
        return out;
    }

    /** With shards, every configured table is in exactly one shard, and every shard's table is configured. */
    static void shardCoverage(SourceConfig source, Map<String, NamespaceConfig> namespaces, List<ConfigError> errors) {
        if (!source.sharded()) {
            return;
        }
        Set<String> configured = new LinkedHashSet<>();
        namespaces.values().forEach(ns -> configured.add(ns.table()));
        Map<String, String> owner = new LinkedHashMap<>();
        for (ShardConfig shard : source.shards().values()) {
            for (int i = 0; i < shard.tables().size(); i++) {
                String t = shard.tables().get(i);
                String at = "source.shards." + shard.name() + ".tables[" + i + "]";
                if (!configured.contains(t)) {
                    errors.add(new ConfigError(at, "table " + t + " is not the table of any namespace; expected one of: "
                            + String.join(", ", configured)));
                } else if (owner.putIfAbsent(t, shard.name()) != null && !owner.get(t).equals(shard.name())) {
                    errors.add(new ConfigError(at, "table " + t + " is in shard " + owner.get(t) + " already: each table is read "
                            + "by exactly one shard"));
                }
            }
        }
        for (String t : configured) {
            if (!owner.containsKey(t)) {
                errors.add(new ConfigError("source.shards", "table " + t + " (of namespace(s) " + namespaces.values().stream()
                        .filter(ns -> ns.table().equals(t)).map(NamespaceConfig::name).toList() + ") is in no shard: with shards, "
                        + "every configured table is in exactly one shard's tables"));
            }
        }
    }

    private static DebeziumTopicsConfig debeziumTopics(YamlSection t, YamlSection source) {
        if (!t.isPresent()) {
            source.error(source.child("debezium-topics"), "is required with mode: debezium-topics (at least topic-prefix, the "
                    + "connector's topic.prefix)");
        }
        String prefix = t.requiredString("topic-prefix", "the existing connector's topic.prefix");
        if (prefix != null && !prefix.matches("[a-zA-Z0-9._-]+")) {
            t.error(t.child("topic-prefix"), "expected a Kafka topic prefix ([a-zA-Z0-9._-]+), found '" + prefix + "'");
        }
        boolean schemas = t.bool("schemas", Defaults.DEBEZIUM_TOPICS_SCHEMAS);
        String placeholder = t.string("unavailable-value-placeholder", DebeziumTopicsConfig.DEBEZIUM_PLACEHOLDER);
        if (placeholder != null && placeholder.isEmpty()) {
            t.error(t.child("unavailable-value-placeholder"), "expected the connector's unavailable.value.placeholder, found ''");
        }
        String heartbeatTopic = t.string("heartbeat-topic", prefix == null ? null : "__debezium-heartbeat." + prefix);
        String group = t.string("group-id", null);
        boolean transactions = t.bool("transaction-metadata", Defaults.DEBEZIUM_TOPICS_TRANSACTION_METADATA);
        String transactionTopic = t.string("transaction-topic", prefix == null ? null : prefix + ".transaction");
        if (t.has("transaction-topic") && !transactions) {
            t.error(t.child("transaction-topic"), "is only read with transaction-metadata: true (the connector's "
                    + "provide.transaction.metadata)");
        }
        t.finish("topic-prefix, schemas, unavailable-value-placeholder, heartbeat-topic, group-id, transaction-metadata, "
                + "transaction-topic");
        return new DebeziumTopicsConfig(prefix, schemas, placeholder, heartbeatTopic, group, transactions, transactionTopic);
    }

    private static String identifier(YamlSection s, String name, String def) {
        String value = s.string(name, def);
        if (value != null && !value.matches("[a-z_][a-z0-9_]{0,62}")) {
            s.error(s.child(name), "expected a lower-case PostgreSQL identifier (a-z, 0-9, _; at most 63), found '" + value + "'");
        }
        return value;
    }
}
