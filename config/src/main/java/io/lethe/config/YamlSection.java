package io.lethe.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads one mapping of the YAML tree with typed accessors that never throw: every problem is
 * recorded with its path, so a whole file is checked in one pass. {@link #finish()} reports
 * settings that were present but never read (unknown names).
 */
final class YamlSection {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    private final JsonNode node;
    private final String path;
    private final List<ConfigError> errors;
    private final Function<String, String> env;
    private final Set<String> read = new LinkedHashSet<>();

    YamlSection(JsonNode node, String path, List<ConfigError> errors, Function<String, String> env) {
        this.node = node == null ? MissingNode.getInstance() : node;
        this.path = path;
        this.errors = errors;
        this.env = env;
        if (!this.node.isMissingNode() && !this.node.isNull() && !this.node.isObject()) {
            error(path, "expected a mapping of settings, found " + describe(this.node));
        }
    }

    String path() {
        return path;
    }

    boolean isPresent() {
        return node.isObject();
    }

    String child(String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    void error(String at, String problem) {
        errors.add(new ConfigError(at, problem));
    }

    private JsonNode get(String name) {
        read.add(name);
        JsonNode value = node.isObject() ? node.get(name) : null;
        return value == null || value.isNull() ? null : value;
    }

    boolean has(String name) {
        return get(name) != null;
    }

    /** A string with ${ENV} interpolation, or {@code def} when absent. */
    String string(String name, String def) {
        JsonNode value = get(name);
        if (value == null) {
            return def;
        }
        return scalar(value, child(name));
    }

    String requiredString(String name, String expected) {
        JsonNode value = get(name);
        if (value == null) {
            error(child(name), "is required: " + expected);
            return null;
        }
        return scalar(value, child(name));
    }

    Secret secret(String name) {
        String value = string(name, null);
        return value == null ? null : Secret.of(value);
    }

    private String scalar(JsonNode value, String at) {
        if (!value.isValueNode()) {
            error(at, "expected a single value, found " + describe(value));
            return null;
        }
        return interpolate(value.asText(), at);
    }

    String interpolate(String text, String at) {
        Matcher m = ENV.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String replacement = env.apply(m.group(1));
            if (replacement == null) {
                replacement = m.group(2);
            }
            if (replacement == null) {
                error(at, "environment variable " + m.group(1) + " is not set (write ${"
                        + m.group(1) + ":-default} for a default)");
                replacement = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    int integer(String name, int def, int min, int max) {
        String text = string(name, null);
        if (text == null) {
            return def;
        }
        try {
            int value = Integer.parseInt(text.trim());
            if (value < min || value > max) {
                error(child(name), "expected an integer from " + min + " to " + max + ", found " + value);
                return def;
            }
            return value;
        } catch (NumberFormatException e) {
            error(child(name), "expected an integer from " + min + " to " + max + ", found '" + text + "'");
            return def;
        }
    }

    /** An optional integer: {@code null} when absent. */
    Integer optionalInteger(String name, int min, int max) {
        return has(name) ? integer(name, min, min, max) : null;
    }

    boolean bool(String name, boolean def) {
        String text = string(name, null);
        if (text == null) {
            return def;
        }
        return switch (text.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                error(child(name), "expected true or false, found '" + text + "'");
                yield def;
            }
        };
    }

    Duration duration(String name, Duration def) {
        String text = string(name, null);
        if (text == null) {
            return def;
        }
        Duration parsed = parseDuration(text.trim());
        if (parsed == null) {
            error(child(name), "expected a duration such as 100ms, 10s, 5m, 1h or 1d, found '" + text + "'");
            return def;
        }
        return parsed;
    }

    static Duration parseDuration(String text) {
        Matcher m = DURATION.matcher(text);
        if (!m.matches()) {
            return null;
        }
        long amount = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            default -> Duration.ofDays(amount);
        };
    }

    /** A list of strings; a single string is accepted as a list of one. */
    List<String> strings(String name, List<String> def) {
        JsonNode value = get(name);
        if (value == null) {
            return def;
        }
        String at = child(name);
        List<String> out = new ArrayList<>();
        if (value.isValueNode()) {
            out.add(interpolate(value.asText(), at));
        } else if (value.isArray()) {
            for (int i = 0; i < value.size(); i++) {
                JsonNode item = value.get(i);
                if (item.isValueNode() && !item.isNull()) {
                    out.add(interpolate(item.asText(), at + "[" + i + "]"));
                } else {
                    error(at + "[" + i + "]", "expected a string, found " + describe(item));
                }
            }
        } else {
            error(at, "expected a list of strings, found " + describe(value));
        }
        return List.copyOf(out);
    }

    List<Duration> durations(String name, List<Duration> def) {
        if (!has(name)) {
            return def;
        }
        List<Duration> out = new ArrayList<>();
        List<String> texts = strings(name, List.of());
        for (int i = 0; i < texts.size(); i++) {
            Duration d = parseDuration(texts.get(i).trim());
            if (d == null) {
                error(child(name) + "[" + i + "]", "expected a duration such as 1s or 10s, found '" + texts.get(i) + "'");
            } else {
                out.add(d);
            }
        }
        return List.copyOf(out);
    }

    /** A flat map of string values (for pass-through client properties). */
    Map<String, String> stringMap(String name) {
        YamlSection section = section(name);
        Map<String, String> out = new LinkedHashMap<>();
        for (String key : section.names()) {
            String value = section.string(key, null);
            if (value != null) {
                out.put(key, value);
            }
        }
        return out;
    }

    YamlSection section(String name) {
        return new YamlSection(get(name), child(name), errors, env);
    }

    /** Named sub-sections, in document order ({@code regions: {us-east: {...}}}). */
    Map<String, YamlSection> sections(String name) {
        YamlSection parent = section(name);
        Map<String, YamlSection> out = new LinkedHashMap<>();
        for (String key : parent.names()) {
            out.put(key, parent.section(key));
        }
        return out;
    }

    List<String> names() {
        List<String> names = new ArrayList<>();
        if (node.isObject()) {
            Iterator<String> it = node.fieldNames();
            it.forEachRemaining(names::add);
        }
        return names;
    }

    /** Records an error for every setting that was present but never read. */
    void finish(String expected) {
        for (String name : names()) {
            if (!read.contains(name)) {
                error(child(name), "unknown setting; expected one of: " + expected);
            }
        }
    }

    private static String describe(JsonNode value) {
        if (value.isObject()) {
            return "a mapping";
        }
        if (value.isArray()) {
            return "a list";
        }
        return "'" + value.asText() + "'";
    }
}
