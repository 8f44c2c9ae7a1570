package io.lethe.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads {@code lethe.yml} into a validated {@link LetheConfig}. {@code ${NAME}} and
 * {@code ${NAME:-default}} are replaced from the environment. Every problem in the file is
 * reported at once, each with its path and what is expected.
 */
public final class ConfigLoader {
    /** Lethe's own keys in Redis (fences, epochs, locks) start with this; no template or pattern may. */
    private static final String RESERVED_PREFIX = "lethe:";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]*");
    private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?");
    private static final Pattern SHARD = Pattern.compile("[a-z0-9][a-z0-9-]{0,39}");
    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private ConfigLoader() {
    }

    /** Reads a file with the process environment. */
    public static LetheConfig load(Path file) {
        return load(file, System::getenv);
    }

    public static LetheConfig load(Path file, Function<String, String> env) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), List.of(new ConfigError("", "file not found")));
        } catch (IOException e) {
            throw new ConfigException(file.toString(), List.of(new ConfigError("", "cannot read: " + e.getMessage())));
        }
        return parse(file.toString(), text, env);
    }

    /** Parses YAML text; {@code fileName} is only used in messages. */
    public static LetheConfig parse(String fileName, String yaml, Function<String, String> env) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : "line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new ConfigException(fileName, List.of(new ConfigError(where, "not valid YAML: " + e.getOriginalMessage())));
        }
        List<ConfigError> errors = new ArrayList<>();
        YamlSection doc = new YamlSection(root, "", errors, env);
        if (!doc.isPresent()) {
            throw new ConfigException(fileName,
                    List.of(new ConfigError("", "expected a YAML mapping with source, kafka, regions and namespaces")));
        }
        SourceConfig source = source(doc.section("source"));
        YamlSection kafkaSection = doc.section("kafka");
        KafkaConfig kafka = kafka(kafkaSection);
        Map<String, NamespaceConfig> namespaces = namespaces(doc, kafka.publicPayloads());
        shardCoverage(source, namespaces, errors);
        Map<KafkaRole, KafkaIdentity> identities = new LinkedHashMap<>(kafkaRoles(kafkaSection, kafka));
        Map<String, RegionConfig> regions = regions(doc, namespaces.keySet(), kafka, identities);
        kafka = kafka.withIdentities(identities);
        StreamsConfig streams = streams(doc.section("streams"));
        ApplyConfig apply = apply(doc.section("apply"));
        HttpConfig http = http(doc.section("http"));
        MetricsConfig metrics = metrics(doc.section("metrics"));
        TracingConfig tracing = tracing(doc.section("tracing"));
        doc.finish("source, kafka, regions, namespaces, streams, apply, http, metrics, tracing");
        if (source.readsDebeziumTopics() && !source.debeziumTopics().transactionMetadata()) {
            regions.values().stream().filter(RegionConfig::hasReplicaGate).forEach(r -> errors.add(new ConfigError("regions." + r.name()
                    + ".replica",
                    "the replica gate needs each change's commit LSN, which source.mode debezium-topics knows only from the "
                            + "connector's transaction metadata: set provide.transaction.metadata=true on the connector and "
                            + "source.debezium-topics.transaction-metadata: true, or remove replica")));
        }
        Duration margin = LetheConfig.upsertAgeMargin(source.heartbeatInterval(), apply.commandTimeout());
        namespaces.values().stream().filter(ns -> ns.mode() == Mode.UPSERT && ns.fenceTtl().compareTo(margin) <= 0)
                .forEach(ns -> errors.add(new ConfigError("namespaces." + ns.name() + ".fence-ttl", "is " + ns.fenceTtl().toMillis()
                        + "ms, but mode upsert needs more than " + margin.toMillis() + "ms (source.heartbeat-interval "
                        + source.heartbeatInterval().toMillis() + "ms + apply.command-timeout " + apply.commandTimeout().toMillis()
                        + "ms + " + Defaults.CLOCK_ALLOWANCE.toMillis() + "ms for the clocks): a region writes an upsert only while its "
                        + "commit is younger than fence-ttl minus that (docs/security.md, \"Replayed records\"), so every upsert would "
                        + "be a delete; raise fence-ttl (default " + Defaults.FENCE_TTL.toSeconds() + "s) or use mode: delete")));
        if (!errors.isEmpty()) {
            throw new ConfigException(fileName, errors);
        }
        return new LetheConfig(fileName, source, kafka, regions, namespaces, streams, apply, http, metrics, tracing);
    }

    private static SourceConfig source(YamlSection s) {
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
        Duration heartbeat = positive(s, "heartbeat-interval", Defaults.HEARTBEAT_INTERVAL);
        String heartbeatTable = table(s, "heartbeat-table", s.string("heartbeat-table", Defaults.HEARTBEAT_TABLE));
        Duration poll = positive(s, "poll-interval", Defaults.POLL_INTERVAL);
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
                if (!TABLE.matcher(t).matches()) {
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
    private static void shardCoverage(SourceConfig source, Map<String, NamespaceConfig> namespaces, List<ConfigError> errors) {
        if (!source.sharded()) {
            return;
        }
        Set<String> configured = new java.util.LinkedHashSet<>();
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

    private static KafkaConfig kafka(YamlSection s) {
        if (!s.isPresent()) {
            s.error(s.path(), "is required: the Kafka cluster (bootstrap-servers)");
        }
        String bootstrap = s.requiredString("bootstrap-servers", "host:port[,host:port]");
        if (bootstrap != null && !bootstrap.matches("[^,\\s]+:\\d+(,[^,\\s]+:\\d+)*")) {
            s.error(s.child("bootstrap-servers"), "expected host:port[,host:port], found '" + bootstrap + "'");
        }
        Map<String, String> properties = s.stringMap("properties");
        s.has("roles"); // read by kafkaRoles, with the identities of the regions' principals
        String prefix = s.string("topic-prefix", Defaults.TOPIC_PREFIX);
        if (prefix != null && !prefix.matches("[a-zA-Z0-9._-]+")) {
            s.error(s.child("topic-prefix"), "expected letters, digits, '.', '_' or '-', found '" + prefix + "'");
        }
        Integer partitions = s.optionalInteger("partitions", 1, 10_000);
        Integer replication = s.optionalInteger("replication-factor", 1, Short.MAX_VALUE);
        Duration retention = positive(s, "retention", Defaults.TOPIC_RETENTION);
        Duration outageBudget = positive(s, "outage-budget", Defaults.OUTAGE_BUDGET);
        Duration dlqRetention = positive(s, "dlq-retention", Defaults.DLQ_RETENTION);
        boolean publicPayloads = s.bool("public-payloads", Defaults.PUBLIC_PAYLOADS);
        boolean createTopics = s.bool("create-topics", Defaults.CREATE_TOPICS);
        Integer minInsync = s.optionalInteger("min-insync-replicas", 1, Short.MAX_VALUE);
        if (minInsync != null && replication != null && minInsync > replication) {
            s.error(s.child("min-insync-replicas"), "expected at most kafka.replication-factor (" + replication + "), found " + minInsync
                    + ": no write could ever be acknowledged");
        }
        s.finish("bootstrap-servers, properties, roles, topic-prefix, partitions, replication-factor, min-insync-replicas, retention, "
                + "outage-budget, dlq-retention, public-payloads, create-topics");
        return new KafkaConfig(bootstrap, properties, prefix, partitions,
                replication == null ? null : replication.shortValue(), retention, outageBudget, dlqRetention, publicPayloads)
                .withTopicCreation(createTopics, minInsync);
    }

    /** {@code kafka.roles.<capture|streams|cli|app>}: each role's own principal. */
    private static Map<KafkaRole, KafkaIdentity> kafkaRoles(YamlSection kafka, KafkaConfig base) {
        Map<KafkaRole, KafkaIdentity> out = new LinkedHashMap<>();
        YamlSection roles = kafka.section("roles");
        for (KafkaRole role : List.of(KafkaRole.CAPTURE, KafkaRole.STREAMS, KafkaRole.CLI, KafkaRole.APP)) {
            if (roles.has(role.name())) {
                KafkaIdentity identity = kafkaIdentity(roles.section(role.name()), base, false);
                if (identity != null) {
                    out.put(role, identity);
                }
            }
        }
        roles.finish("capture, streams, cli, app"); // a region's principal is regions.<name>.kafka
        return out;
    }

    /**
     * {@code user}, {@code password} and {@code properties} of one role's Kafka principal, and for a
     * region ({@code ownCluster}) its own cluster's {@code bootstrap-servers}.
     */
    private static KafkaIdentity kafkaIdentity(YamlSection s, KafkaConfig base, boolean mayNameCluster) {
        String user = s.string("user", null);
        Secret password = s.secret("password");
        Map<String, String> properties = s.stringMap("properties");
        String bootstrap = mayNameCluster ? s.string("bootstrap-servers", null) : null;
        if (bootstrap != null && !bootstrap.matches("[^,\\s]+:\\d+(,[^,\\s]+:\\d+)*")) {
            s.error(s.child("bootstrap-servers"), "expected host:port[,host:port] of the region's own (mirrored) cluster, found '"
                    + bootstrap + "'");
        }
        s.finish(mayNameCluster ? "bootstrap-servers, user, password, properties" : "user, password, properties");
        if (user != null && password == null) {
            s.error(s.child("password"), "is required with user: write ${ENV_VAR}, secrets are never logged");
        } else if (user == null && password != null) {
            s.error(s.child("user"), "is required with password: the SASL user this role logs in as");
        }
        for (String property : properties.keySet()) {
            if (property.equals("bootstrap.servers") || property.equals("client.id")) {
                s.error(s.child("properties") + "." + property,
                        "is set by Lethe (kafka.bootstrap-servers, one client id per client); remove it");
            } else if (user != null && property.equals("sasl.jaas.config")) {
                s.error(s.child("properties") + "." + property, "conflicts with user and password, which Lethe turns into "
                        + "sasl.jaas.config; set one or the other");
            }
        }
        KafkaIdentity identity = new KafkaIdentity(user, password, properties, bootstrap);
        if (user != null && password != null && base != null) {
            try {
                identity.over(base.properties());
            } catch (IllegalArgumentException e) {
                s.error(s.child("user"), e.getMessage() + " (kafka.properties or " + s.child("properties") + " sasl.mechanism)");
            }
        }
        return identity;
    }

    private static Map<String, NamespaceConfig> namespaces(YamlSection doc, boolean publicPayloads) {
        Map<String, YamlSection> sections = doc.sections("namespaces");
        if (sections.isEmpty()) {
            doc.error("namespaces", "is required: at least one namespace (table and keys)");
        }
        Map<String, NamespaceConfig> out = new LinkedHashMap<>();
        for (Map.Entry<String, YamlSection> e : sections.entrySet()) {
            String name = e.getKey();
            YamlSection s = e.getValue();
            if (!NAME.matcher(name).matches()) {
                s.error(s.path(), "namespace names use letters, digits, '.', '_' and '-'");
            }
            out.put(name, namespace(name, s, publicPayloads));
        }
        return out;
    }

    private static NamespaceConfig namespace(String name, YamlSection s, boolean publicPayloadsDefault) {
        String table = table(s, "table", s.requiredString("table", "schema.table, e.g. public.products"));
        List<String> primaryKey = columns(s, "primary-key", Defaults.PRIMARY_KEY);
        List<KeyTemplate> keys = new ArrayList<>();
        List<String> keyTexts = s.strings("keys", List.of());
        for (int i = 0; i < keyTexts.size(); i++) {
            try {
                keys.add(KeyTemplate.parse(keyTexts.get(i)));
            } catch (IllegalArgumentException ex) {
                s.error(s.child("keys") + "[" + i + "]", ex.getMessage());
            }
        }
        boolean allowUnprefixed = s.bool("allow-unprefixed-keys", false);
        for (int i = 0; i < keys.size(); i++) {
            KeyTemplate key = keys.get(i);
            if (key.text().startsWith(RESERVED_PREFIX)) {
                s.error(s.child("keys") + "[" + i + "]", "'" + key + "' starts with " + RESERVED_PREFIX
                        + ", which Lethe keeps for its own keys (fences, epochs, locks); choose another prefix");
            } else if (key.isUnprefixed() && !allowUnprefixed) {
                s.error(s.child("keys") + "[" + i + "]", "'" + key + "' starts with a column, so invalidating the whole "
                        + "namespace (TRUNCATE, a lost slot, a key that cannot be rendered) scans '" + key.glob()
                        + "', which matches keys of other namespaces"
                        + (Patterns.matchesEverything(key.glob()) ? " (every key in Redis)" : "")
                        + "; start it with a literal prefix such as product:{id}, or set allow-unprefixed-keys: true");
            }
        }
        List<String> patterns = s.strings("patterns", List.of());
        boolean allowWide = s.bool("allow-namespace-wide", false);
        for (int i = 0; i < patterns.size(); i++) {
            KeyTemplate wide = NamespaceConfig.wideTemplate(keys, patterns.get(i));
            if (Patterns.matchesEverything(patterns.get(i))) {
                s.error(s.child("patterns") + "[" + i + "]", "'" + patterns.get(i)
                        + "' matches every key in Redis; name a prefix such as search:products:*");
            } else if (patterns.get(i).startsWith(RESERVED_PREFIX)) {
                s.error(s.child("patterns") + "[" + i + "]", "'" + patterns.get(i) + "' starts with " + RESERVED_PREFIX
                        + ", which Lethe keeps for its own keys");
            } else if (wide != null && !allowWide) {
                // the region refuses it to the DLQ on every change (namespace-wide-pattern): one rule, NamespaceConfig#isNamespaceWide
                s.error(s.child("patterns") + "[" + i + "]", "'" + patterns.get(i) + "' matches every key of key template '" + wide
                        + "', so every change would invalidate all of namespace " + name + " and the region refuses it "
                        + "(dead-letters it as namespace-wide-pattern); name a narrower glob, or set allow-namespace-wide: true "
                        + "on the namespace if every change should invalidate every " + wide + " key");
            }
        }
        if (keys.isEmpty() && patterns.isEmpty() && keyTexts.isEmpty()) {
            s.error(s.child("keys"), "is required: at least one key template (e.g. product:{id}) or pattern");
        }
        VersionSource version = version(s);
        Mode mode = mode(s);
        Duration fenceTtl = positive(s, "fence-ttl", Defaults.FENCE_TTL);
        List<String> payload = columns(s, "payload-columns", List.of());
        Duration ttl = s.duration("ttl", Defaults.ENTRY_TTL);
        if (mode == Mode.UPSERT) {
            for (int i = 0; i < keys.size(); i++) {
                if (!keys.get(i).isRowScoped(primaryKey)) {
                    s.error(s.child("keys") + "[" + i + "]", "mode upsert needs row-scoped keys (only primary-key columns "
                            + primaryKey + "), but '" + keys.get(i) + "' is derived; use mode: delete or a separate namespace");
                }
            }
            if (payload.isEmpty()) {
                s.error(s.child("payload-columns"), "is required for mode upsert: the columns written as the JSON payload");
            }
        } else if (!payload.isEmpty()) {
            s.error(s.child("payload-columns"), "is only used with mode: upsert");
        }
        boolean publicTopic = s.bool("public-topic", Defaults.PUBLIC_TOPIC);
        boolean publicPayloads = s.bool("public-payloads", publicPayloadsDefault);
        if (s.has("public-payloads") && mode != Mode.UPSERT) {
            s.error(s.child("public-payloads"), "is only used with mode: upsert (only upserts carry payloads)");
        } else if (s.has("public-payloads") && publicPayloads && !publicTopic) {
            s.error(s.child("public-payloads"), "the namespace is off the public topic (public-topic: false), so nothing of it "
                    + "reaches that topic; remove public-payloads or set public-topic: true");
        }
        s.finish("table, keys, patterns, version, mode, fence-ttl, primary-key, payload-columns, ttl, allow-namespace-wide, "
                + "allow-unprefixed-keys, public-topic, public-payloads");
        return new NamespaceConfig(name, table, keys, patterns, version, mode, fenceTtl, primaryKey, payload, ttl, allowWide,
                publicTopic, publicPayloads);
    }

    private static String table(YamlSection s, String name, String value) {
        if (value == null) {
            return null;
        }
        if (!TABLE.matcher(value).matches()) {
            s.error(s.child(name), "expected schema.table (e.g. public.products), found '" + value + "'");
            return value;
        }
        return value.contains(".") ? value : "public." + value;
    }

    private static List<String> columns(YamlSection s, String name, List<String> def) {
        List<String> columns = s.strings(name, def);
        for (int i = 0; i < columns.size(); i++) {
            if (!COLUMN.matcher(columns.get(i)).matches()) {
                s.error(s.child(name) + "[" + i + "]", "expected a column name, found '" + columns.get(i) + "'");
            }
        }
        return columns;
    }

    private static VersionSource version(YamlSection s) {
        String text = s.string("version", "lsn");
        if (text == null || text.equals("lsn")) {
            return VersionSource.LSN;
        }
        if (text.startsWith("column:") && COLUMN.matcher(text.substring(7)).matches()) {
            return new VersionSource(text.substring(7));
        }
        s.error(s.child("version"), "expected lsn or column:<name> (an integer column the application increments), found '" + text + "'");
        return VersionSource.LSN;
    }

    private static Mode mode(YamlSection s) {
        String text = s.string("mode", "delete");
        try {
            return Mode.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            s.error(s.child("mode"), "expected delete or upsert, found '" + text + "'");
            return Mode.DELETE;
        }
    }

    private static Duration positive(YamlSection s, String name, Duration def) {
        Duration d = s.duration(name, def);
        if (d.isZero() || d.isNegative()) {
            s.error(s.child(name), "must be greater than zero");
        }
        return d;
    }

    private static Map<String, RegionConfig> regions(YamlSection doc, Set<String> namespaces, KafkaConfig kafka,
            Map<KafkaRole, KafkaIdentity> identities) {
        Map<String, YamlSection> sections = doc.sections("regions");
        if (sections.isEmpty()) {
            doc.error("regions", "is required: at least one region with its redis URI");
        }
        Map<String, RegionConfig> out = new LinkedHashMap<>();
        for (Map.Entry<String, YamlSection> e : sections.entrySet()) {
            String name = e.getKey();
            YamlSection s = e.getValue();
            if (!NAME.matcher(name).matches()) {
                s.error(s.path(), "region names use letters, digits, '.', '_' and '-' (they become topic names)");
            }
            String uri = s.requiredString("redis", "redis://host:port, rediss://host:port or redis-sentinel://host:port#master");
            RedisTopology topology = topology(s, uri);
            String user = s.string("redis-user", null);
            Secret password = s.secret("redis-password");
            List<String> subscribed = s.strings("namespaces", List.copyOf(namespaces));
            for (int i = 0; i < subscribed.size(); i++) {
                if (!namespaces.contains(subscribed.get(i))) {
                    s.error(s.child("namespaces") + "[" + i + "]", "unknown namespace '" + subscribed.get(i)
                            + "'; expected one of: " + String.join(", ", namespaces));
                }
            }
            String replica = s.string("replica", null);
            if (replica != null && !JdbcUrls.isPostgres(replica)) {
                s.error(s.child("replica"), "expected jdbc:postgresql://host:port/database, found '" + replica + "'");
            }
            String replicaUser = s.string("replica-user", null);
            Secret replicaPassword = s.secret("replica-password");
            String caFile = s.string("redis-ca-file", null);
            if (caFile != null && !uri.startsWith("rediss://")) {
                s.error(s.child("redis-ca-file"), "applies to rediss:// (TLS) only; redis is " + RegionConfig.maskUserInfo(uri));
            } else if (caFile != null && !java.nio.file.Files.isReadable(java.nio.file.Path.of(caFile))) {
                s.error(s.child("redis-ca-file"), "expected a readable PEM file of the CA certificates to trust, found '" + caFile + "'");
            }
            if (s.has("kafka")) {
                identities.put(KafkaRole.region(name), kafkaIdentity(s.section("kafka"), kafka, true));
            }
            s.finish(
                    "redis, topology, redis-user, redis-password, redis-ca-file, namespaces, replica, replica-user, replica-password, kafka");
            out.put(name, new RegionConfig(name, uri, topology, user, password, subscribed, replica, replicaUser, replicaPassword, caFile));
        }
        return out;
    }

    private static RedisTopology topology(YamlSection s, String uri) {
        RedisTopology inferred = uri != null && uri.startsWith("redis-sentinel") ? RedisTopology.SENTINEL : RedisTopology.STANDALONE;
        if (uri != null && !uri.matches("(redis|rediss|redis-sentinel|rediss-sentinel)://.+")) {
            s.error(s.child("redis"), "expected a redis://, rediss:// or redis-sentinel:// URI, found '"
                    + RegionConfig.maskUserInfo(uri) + "'");
        }
        String text = s.string("topology", inferred.name().toLowerCase(Locale.ROOT));
        try {
            return RedisTopology.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            s.error(s.child("topology"), "expected standalone, sentinel or cluster, found '" + text + "'");
            return inferred;
        }
    }

    private static StreamsConfig streams(YamlSection s) {
        String appId = s.string("application-id", Defaults.STREAMS_APPLICATION_ID);
        String guarantee = s.string("processing-guarantee", Defaults.PROCESSING_GUARANTEE);
        if (!List.of("at_least_once", "exactly_once_v2").contains(guarantee)) {
            s.error(s.child("processing-guarantee"), "expected at_least_once or exactly_once_v2, found '" + guarantee + "'");
        }
        Duration commit = positive(s, "commit-interval",
                "exactly_once_v2".equals(guarantee) ? Defaults.COMMIT_INTERVAL_EXACTLY_ONCE : Defaults.COMMIT_INTERVAL);
        Duration linger = s.duration("linger", Defaults.PRODUCER_LINGER);
        int maxKey = s.integer("max-key-bytes", Defaults.MAX_KEY_BYTES, 16, 512 * 1024 * 1024);
        int threads = s.integer("threads", Defaults.STREAM_THREADS, 1, 64);
        String stateDir = s.string("state-dir", null);
        Secret watermarkKey = s.secret("watermark-key");
        if (watermarkKey != null && watermarkKey.reveal().length() < 16) {
            s.error(s.child("watermark-key"), "must be at least 16 characters (an HMAC-SHA256 key; e.g. ${LETHE_WATERMARK_KEY} "
                    + "from `openssl rand -hex 32`)");
        }
        s.finish("application-id, processing-guarantee, commit-interval, linger, max-key-bytes, threads, state-dir, watermark-key");
        return new StreamsConfig(appId, guarantee, commit, linger, maxKey, threads, stateDir, watermarkKey);
    }

    private static ApplyConfig apply(YamlSection s) {
        String group = s.string("group-prefix", Defaults.GROUP_PREFIX);
        int maxPoll = s.integer("max-poll-records", Defaults.MAX_POLL_RECORDS, 1, 100_000);
        Duration commitInterval = positive(s, "commit-interval", Defaults.APPLY_COMMIT_INTERVAL);
        Duration min = positive(s, "retry-backoff-min", Defaults.RETRY_BACKOFF_MIN);
        Duration max = positive(s, "retry-backoff-max", Defaults.RETRY_BACKOFF_MAX);
        if (max.compareTo(min) < 0) {
            s.error(s.child("retry-backoff-max"), "must be at least retry-backoff-min (" + min + ")");
        }
        Duration timeout = positive(s, "command-timeout", Defaults.COMMAND_TIMEOUT);
        int connections = s.integer("connections", Defaults.REDIS_CONNECTIONS, 1, 64);
        int scanCount = s.integer("pattern-scan-count", Defaults.PATTERN_SCAN_COUNT, 1, 100_000);
        int keysPerSecond = s.integer("pattern-keys-per-second", Defaults.PATTERN_KEYS_PER_SECOND, 1, 10_000_000);
        Duration replicaPoll = positive(s, "replica-poll-interval", Defaults.REPLICA_POLL_INTERVAL);
        YamlSection prober = s.section("prober");
        int sampleEvery = prober.integer("sample-every", Defaults.PROBER_SAMPLE_EVERY, 0, Integer.MAX_VALUE);
        List<Duration> windows = prober.durations("windows", Defaults.PROBER_WINDOWS);
        if (prober.has("verify-values")) {
            // was reserved and never implemented: the prober judges presence and versions; values are judged by lethe inspect
            prober.error(prober.child("verify-values"), "is not a setting: the prober judges presence and versions only; to compare "
                    + "cached values with their rows run `lethe inspect --region <name>` (docs/design.md, \"Inspecting a region's cache\")");
        }
        prober.finish("sample-every, windows");
        int lead = s.integer("max-lsn-lead-mib", Defaults.MAX_LSN_LEAD_MIB, 1, 1 << 30);
        s.finish("group-prefix, max-poll-records, commit-interval, retry-backoff-min, retry-backoff-max, command-timeout, connections, "
                + "pattern-scan-count, pattern-keys-per-second, replica-poll-interval, prober, max-lsn-lead-mib");
        return new ApplyConfig(group, maxPoll, commitInterval, min, max, timeout, connections, scanCount, keysPerSecond, replicaPoll,
                sampleEvery, windows, lead);
    }

    private static MetricsConfig metrics(YamlSection s) {
        YamlSection otlp = s.section("otlp");
        String endpoint = otlpUrl(otlp, "metrics");
        Duration interval = positive(otlp, "interval", Defaults.OTLP_INTERVAL);
        Map<String, Secret> headers = new java.util.LinkedHashMap<>();
        otlp.stringMap("headers").forEach((name, value) -> headers.put(name, Secret.of(value)));
        otlp.finish("endpoint, interval, headers");
        s.finish("otlp");
        return new MetricsConfig(endpoint, interval, headers);
    }

    /** The section's {@code endpoint}: an OTLP/HTTP URL of {@code signal} (metrics, traces), or null. */
    private static String otlpUrl(YamlSection s, String signal) {
        String endpoint = s.string("endpoint", null);
        if (endpoint != null) {
            String expected = "expected the collector's OTLP/HTTP URL, http(s)://host:4318/v1/" + signal;
            try {
                java.net.URI uri = new java.net.URI(endpoint);
                if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                    s.error(s.child("endpoint"), expected + ", found '" + endpoint + "'");
                }
            } catch (java.net.URISyntaxException e) {
                s.error(s.child("endpoint"), expected + ": " + e.getMessage());
            }
        }
        return endpoint;
    }

    private static TracingConfig tracing(YamlSection s) {
        String endpoint = otlpUrl(s, "traces");
        double ratio = Defaults.TRACE_SAMPLE_RATIO;
        String text = s.string("sample-ratio", null);
        if (text != null) {
            try {
                ratio = Double.parseDouble(text.trim());
            } catch (NumberFormatException e) {
                ratio = Double.NaN;
            }
            if (!(ratio >= 0 && ratio <= 1)) {
                s.error(s.child("sample-ratio"), "expected the share of changes traced, a number from 0 to 1 (0.01: 1 in 100), found '"
                        + text + "'");
                ratio = Defaults.TRACE_SAMPLE_RATIO;
            }
        }
        Map<String, Secret> headers = new java.util.LinkedHashMap<>();
        s.stringMap("headers").forEach((name, value) -> headers.put(name, Secret.of(value)));
        s.finish("endpoint, sample-ratio, headers");
        return new TracingConfig(endpoint, ratio, headers);
    }

    private static HttpConfig http(YamlSection s) {
        String host = s.string("host", Defaults.HTTP_HOST);
        int port = s.integer("port", Defaults.HTTP_PORT, 0, 65535);
        s.finish("host, port");
        return new HttpConfig(host, port);
    }
}
