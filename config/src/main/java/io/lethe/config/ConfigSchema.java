package io.lethe.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The JSON Schema of {@code lethe.yml} (draft 2020-12), for editors: generated from
 * {@link ConfigReference}'s settings (their paths, defaults and meanings), with each setting's
 * type from {@link #TYPES} (a test keeps one type per setting). docs/lethe.schema.json is this
 * (a test keeps it so); {@code lethe config --schema} prints it.
 *
 * <p>It says what the loader accepts, no more: {@code ${NAME}} may stand for any scalar (so an
 * integer, boolean or duration may also be a string holding {@code ${...}}); sections refuse
 * unknown settings as the loader does. What only the loader can judge (a table's primary key, a
 * key template's columns, ranges that depend on other settings) stays with
 * {@code lethe config --check}.
 */
public final class ConfigSchema {
    /** What a setting's value is. */
    enum Kind {
        STRING, INTEGER, NUMBER, BOOLEAN, DURATION, DURATIONS, STRINGS, STRING_MAP, SECTION, ENUM
    }

    record Type(Kind kind, List<String> values, String pattern) {
        static Type of(Kind kind) {
            return new Type(kind, List.of(), null);
        }

        static Type oneOf(String... values) {
            return new Type(Kind.ENUM, List.of(values), null);
        }

        static Type matching(String pattern) {
            return new Type(Kind.STRING, List.of(), pattern);
        }
    }

    private static final Type STRING = Type.of(Kind.STRING);
    private static final Type INTEGER = Type.of(Kind.INTEGER);
    private static final Type BOOLEAN = Type.of(Kind.BOOLEAN);
    private static final Type DURATION = Type.of(Kind.DURATION);
    private static final Type STRINGS = Type.of(Kind.STRINGS);
    private static final Type MAP = Type.of(Kind.STRING_MAP);

    /** A scalar the loader replaces from the environment: any type may be written as {@code ${NAME}}. */
    private static final String INTERPOLATED = ".*\\$\\{[^}]+\\}.*";
    private static final String DURATION_TEXT = "\\d+\\s*(ms|s|m|h|d)";

    /** Every setting's type, by its path in {@link ConfigReference}. */
    static final Map<String, Type> TYPES = types();

    private static Map<String, Type> types() {
        Map<String, Type> t = new LinkedHashMap<>();
        t.put("source.jdbc-url", Type.matching("^(jdbc:postgresql://.*|" + INTERPOLATED + ")$"));
        t.put("source.user", STRING);
        t.put("source.password", STRING);
        t.put("source.mode", Type.oneOf("capture", "debezium-topics"));
        t.put("source.debezium-topics.topic-prefix", STRING);
        t.put("source.debezium-topics.schemas", BOOLEAN);
        t.put("source.debezium-topics.unavailable-value-placeholder", STRING);
        t.put("source.debezium-topics.heartbeat-topic", STRING);
        t.put("source.debezium-topics.transaction-metadata", BOOLEAN);
        t.put("source.debezium-topics.transaction-topic", STRING);
        t.put("source.debezium-topics.group-id", STRING);
        t.put("source.slot", STRING);
        t.put("source.publication", STRING);
        t.put("source.create-publication", BOOLEAN);
        t.put("source.heartbeat-interval", DURATION);
        t.put("source.heartbeat-table", STRING);
        t.put("source.poll-interval", DURATION);
        t.put("source.max-batch-size", INTEGER);
        t.put("source.max-queue-size", INTEGER);
        t.put("source.region", STRING);
        t.put("source.debezium", MAP);
        t.put("source.reader-user", STRING);
        t.put("source.reader-password", STRING);
        t.put("source.shards", Type.of(Kind.SECTION));
        t.put("source.shards.<shard>.slot", Type.matching("^([a-z_][a-z0-9_]{0,62}|" + INTERPOLATED + ")$"));
        t.put("source.shards.<shard>.publication", Type.matching("^([a-z_][a-z0-9_]{0,62}|" + INTERPOLATED + ")$"));
        t.put("source.shards.<shard>.tables", STRINGS);
        t.put("kafka.bootstrap-servers", STRING);
        t.put("kafka.properties", MAP);
        t.put("kafka.roles", Type.of(Kind.SECTION));
        t.put("kafka.roles.<role>.user", STRING);
        t.put("kafka.roles.<role>.password", STRING);
        t.put("kafka.roles.<role>.properties", MAP);
        t.put("kafka.topic-prefix", STRING);
        t.put("kafka.create-topics", BOOLEAN);
        t.put("kafka.partitions", INTEGER);
        t.put("kafka.replication-factor", INTEGER);
        t.put("kafka.min-insync-replicas", INTEGER);
        t.put("kafka.retention", DURATION);
        t.put("kafka.dlq-retention", DURATION);
        t.put("kafka.public-payloads", BOOLEAN);
        t.put("kafka.outage-budget", DURATION);
        t.put("regions.<name>.redis", STRING);
        t.put("regions.<name>.topology", Type.oneOf("standalone", "sentinel", "cluster"));
        t.put("regions.<name>.redis-user", STRING);
        t.put("regions.<name>.redis-password", STRING);
        t.put("regions.<name>.redis-ca-file", STRING);
        t.put("regions.<name>.namespaces", STRINGS);
        t.put("regions.<name>.replica", STRING);
        t.put("regions.<name>.replica-user", STRING);
        t.put("regions.<name>.replica-password", STRING);
        t.put("regions.<name>.kafka.bootstrap-servers", STRING);
        t.put("regions.<name>.kafka.user", STRING);
        t.put("regions.<name>.kafka.password", STRING);
        t.put("regions.<name>.kafka.properties", MAP);
        t.put("namespaces.<name>.table", STRING);
        t.put("namespaces.<name>.keys", STRINGS);
        t.put("namespaces.<name>.patterns", STRINGS);
        t.put("namespaces.<name>.version", Type.matching("^(lsn|column:[A-Za-z_][A-Za-z0-9_]*|" + INTERPOLATED + ")$"));
        t.put("namespaces.<name>.mode", Type.oneOf("delete", "upsert"));
        t.put("namespaces.<name>.fence-ttl", DURATION);
        t.put("namespaces.<name>.primary-key", STRINGS);
        t.put("namespaces.<name>.payload-columns", STRINGS);
        t.put("namespaces.<name>.ttl", DURATION);
        t.put("namespaces.<name>.allow-namespace-wide", BOOLEAN);
        t.put("namespaces.<name>.public-topic", BOOLEAN);
        t.put("namespaces.<name>.public-payloads", BOOLEAN);
        t.put("namespaces.<name>.allow-unprefixed-keys", BOOLEAN);
        t.put("streams.application-id", STRING);
        t.put("streams.processing-guarantee", Type.oneOf("at_least_once", "exactly_once_v2"));
        t.put("streams.commit-interval", DURATION);
        t.put("streams.linger", DURATION);
        t.put("streams.max-key-bytes", INTEGER);
        t.put("streams.threads", INTEGER);
        t.put("streams.state-dir", STRING);
        t.put("streams.watermark-key", STRING);
        t.put("apply.group-prefix", STRING);
        t.put("apply.max-poll-records", INTEGER);
        t.put("apply.commit-interval", DURATION);
        t.put("apply.retry-backoff-min", DURATION);
        t.put("apply.retry-backoff-max", DURATION);
        t.put("apply.command-timeout", DURATION);
        t.put("apply.connections", INTEGER);
        t.put("apply.pattern-scan-count", INTEGER);
        t.put("apply.pattern-keys-per-second", INTEGER);
        t.put("apply.replica-poll-interval", DURATION);
        t.put("apply.prober.sample-every", INTEGER);
        t.put("apply.prober.windows", Type.of(Kind.DURATIONS));
        t.put("apply.max-lsn-lead-mib", INTEGER);
        t.put("metrics.otlp.endpoint", STRING);
        t.put("metrics.otlp.interval", DURATION);
        t.put("metrics.otlp.headers", MAP);
        t.put("tracing.endpoint", STRING);
        t.put("tracing.sample-ratio", Type.of(Kind.NUMBER));
        t.put("tracing.headers", MAP);
        t.put("http.host", STRING);
        t.put("http.port", INTEGER);
        return t;
    }

    /** The sections the loader requires at the top of the file. */
    private static final List<String> REQUIRED_SECTIONS = List.of("source", "kafka", "regions", "namespaces");

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private ConfigSchema() {
    }

    /** The schema as a JSON document (two-space indent, one trailing newline). */
    public static String json() {
        ObjectMapper mapper = new ObjectMapper();
        DefaultPrettyPrinter printer = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"))
                .withArrayIndenter(new DefaultIndenter("  ", "\n"));
        try {
            return mapper.writer(printer).writeValueAsString(schema()) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode schema() {
        ObjectNode root = F.objectNode();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.put("title", "lethe.yml");
        root.put("description", "Lethe's configuration, one file for every stage (docs/configuration.md). Generated from the "
                + "defaults in the code: `lethe config --schema`.");
        Node tree = new Node();
        for (ConfigReference.Setting s : ConfigReference.settings()) {
            Type type = TYPES.get(s.path());
            if (type == null) {
                throw new IllegalStateException("setting " + s.path() + " has no type in ConfigSchema.TYPES");
            }
            Node node = tree;
            for (String part : s.path().split("\\.")) {
                node = node.children.computeIfAbsent(part, p -> new Node());
            }
            node.setting = s;
            node.type = type;
        }
        fillObject(root, tree);
        ArrayNode required = root.putArray("required");
        REQUIRED_SECTIONS.forEach(required::add);
        return root;
    }

    /** A step of the settings' paths: a section (children) or a setting (a type), or a section that is a setting too. */
    private static final class Node {
        final Map<String, Node> children = new LinkedHashMap<>();
        ConfigReference.Setting setting;
        Type type;
    }

    /** Writes {@code node}'s children as the properties of the object schema {@code out}. */
    private static void fillObject(ObjectNode out, Node node) {
        out.put("type", "object");
        ObjectNode properties = F.objectNode();
        List<String> required = new ArrayList<>();
        Node each = null;
        String eachName = null;
        for (Map.Entry<String, Node> e : node.children.entrySet()) {
            if (e.getKey().startsWith("<")) {
                each = e.getValue(); // a name the user chooses: a region, a namespace, a role, a capture shard
                eachName = e.getKey();
                continue;
            }
            properties.set(e.getKey(), schemaOf(e.getValue()));
            if (e.getValue().setting != null && e.getValue().setting.defaultValue().equals("required")) {
                required.add(e.getKey());
            }
        }
        if (each != null) {
            ObjectNode item = schemaOf(each);
            out.set("additionalProperties", item);
            // a capture shard's name is also a role's (capture:<shard>): the loader's stricter pattern
            out.putObject("propertyNames").put("pattern", "<shard>".equals(eachName)
                    ? "^[a-z0-9][a-z0-9-]{0,39}$"
                    : "^[a-zA-Z0-9][a-zA-Z0-9._-]*$");
        } else {
            out.set("properties", properties);
            out.put("additionalProperties", false);
        }
        if (!required.isEmpty()) {
            ArrayNode r = out.putArray("required");
            required.forEach(r::add);
        }
        if (node.children.containsKey("keys") && node.children.containsKey("patterns")) {
            // a namespace needs key templates or patterns
            ArrayNode anyOf = out.putArray("anyOf");
            anyOf.addObject().putArray("required").add("keys");
            anyOf.addObject().putArray("required").add("patterns");
        }
    }

    private static ObjectNode schemaOf(Node node) {
        ObjectNode out = F.objectNode();
        if (node.setting != null) {
            String def = node.setting.defaultValue();
            out.put("description", node.setting.meaning() + (def.startsWith("required") ? " (" + def + ")" : " (default: " + def + ")"));
        }
        if (!node.children.isEmpty()) {
            fillObject(out, node);
            return out;
        }
        Type type = node.type;
        switch (type.kind()) {
            case STRING -> {
                out.put("type", "string");
                if (type.pattern() != null) {
                    out.put("pattern", type.pattern());
                }
            }
            case ENUM -> {
                ArrayNode anyOf = out.putArray("anyOf");
                ArrayNode values = anyOf.addObject().putArray("enum");
                type.values().forEach(values::add);
                anyOf.add(interpolated());
            }
            case INTEGER -> scalarOr(out, "integer", "-?\\d+");
            case NUMBER -> scalarOr(out, "number", "-?\\d+(\\.\\d+)?([eE]-?\\d+)?");
            case BOOLEAN -> scalarOr(out, "boolean", "true|false");
            case DURATION -> durationSchema(out);
            case DURATIONS -> {
                ArrayNode anyOf = out.putArray("anyOf");
                durationSchema(anyOf.addObject());
                durationSchema(anyOf.addObject().put("type", "array").putObject("items"));
            }
            case STRINGS -> {
                // a single string is a list of one
                ArrayNode anyOf = out.putArray("anyOf");
                anyOf.addObject().put("type", "string");
                anyOf.addObject().put("type", "array").putObject("items").put("type", "string");
            }
            case STRING_MAP -> out.put("type", "object").putObject("additionalProperties").putArray("type")
                    .add("string").add("number").add("boolean");
            case SECTION -> out.put("type", "object");
            default -> throw new IllegalStateException(type.kind().name());
        }
        Object def = defaultOf(node.setting, type);
        if (def instanceof Boolean b) {
            out.put("default", b);
        } else if (def instanceof Long l) {
            out.put("default", l);
        } else if (def instanceof Double d) {
            out.put("default", d);
        } else if (def instanceof String s) {
            out.put("default", s);
        }
        return out;
    }

    /** {@code type}, or a string of {@code text} (YAML quoted it) or holding {@code ${NAME}}. */
    private static void scalarOr(ObjectNode out, String type, String text) {
        out.putArray("type").add(type).add("string");
        out.put("pattern", "^(" + text + "|" + INTERPOLATED + ")$");
    }

    private static void durationSchema(ObjectNode out) {
        out.put("type", "string");
        out.put("pattern", "^(" + DURATION_TEXT + "|" + INTERPOLATED + ")$");
    }

    private static ObjectNode interpolated() {
        return F.objectNode().put("type", "string").put("pattern", "^" + INTERPOLATED + "$");
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_.:/-]+");

    /** The setting's default as a JSON value when it is one (not "required", "none", or a phrase), else null. */
    private static Object defaultOf(ConfigReference.Setting setting, Type type) {
        String text = setting.defaultValue();
        boolean anotherSetting = ConfigReference.settings().stream().anyMatch(s -> s.path().equals(text));
        if (text.isEmpty() || text.equals("required") || text.equals("none") || anotherSetting || !PLAIN.matcher(text).matches()) {
            return null;
        }
        return switch (type.kind()) {
            case BOOLEAN -> text.equals("true") || text.equals("false") ? Boolean.valueOf(text) : null;
            case INTEGER -> text.matches("-?\\d+") ? Long.valueOf(text) : null;
            case NUMBER -> text.matches("-?\\d+(\\.\\d+)?") ? Double.valueOf(text) : null;
            case DURATION -> text.matches(DURATION_TEXT) ? text : null;
            case STRING, ENUM -> text;
            default -> null;
        };
    }
}
