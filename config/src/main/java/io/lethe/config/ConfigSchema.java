package io.lethe.config;

import static io.lethe.config.SettingTypes.DURATION_TEXT;
import static io.lethe.config.SettingTypes.INTERPOLATED;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lethe.config.SettingTypes.Type;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The JSON Schema of {@code lethe.yml} (draft 2020-12), for editors: generated from
 * {@link ConfigReference}'s settings (their paths, defaults and meanings), with each setting's
 * type from {@link SettingTypes} (a test keeps one type per setting). docs/lethe.schema.json is this
 * (a test keeps it so); {@code lethe config --schema} prints it.
 *
 * <p>It says what the loader accepts, no more: {@code ${NAME}} may stand for any scalar (so an
 * integer, boolean or duration may also be a string holding {@code ${...}}); sections refuse
 * unknown settings as the loader does. What only the loader can judge (a table's primary key, a
 * key template's columns, ranges that depend on other settings) stays with
 * {@code lethe config --check}.
 */
public final class ConfigSchema {
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
            Type type = SettingTypes.TYPES.get(s.path());
            if (type == null) {
                throw new IllegalStateException("setting " + s.path() + " has no type in SettingTypes.TYPES");
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
