package io.lethe.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The signing keys {@link SigningKeyChanges} cannot compare: {@code lethe config --check --against}
 * resolves both files' {@code ${NAME}} from the one shell it runs in, so a key both files take from
 * the same variable always looks unchanged, while each stage resolves it from its own environment
 * and a new secret value there is the lossy one-step change. Read from the files' raw YAML, before
 * any variable is replaced, so no key's value is ever seen or printed.
 */
final class EnvironmentKeys {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)");
    private static final List<String> KEYS = List.of("watermark-key", "previous-watermark-key");

    private EnvironmentKeys() {
    }

    /** One line per key that both files take from {@code ${...}} with the same text; none for a file that is not YAML. */
    static List<String> notCompared(String runningYaml, String nextYaml) {
        List<String> out = new ArrayList<>();
        for (String key : KEYS) {
            String running = raw(runningYaml, key);
            if (running != null && running.contains("${") && running.equals(raw(nextYaml, key))) {
                // the variables' names only: a default (${NAME:-value}) may be a key
                out.add("streams." + key + ": not compared: both files take it from " + variables(running) + ", whose value comes from the "
                        + "environment of each stage, not from these files (this check resolved both from its own shell). If that "
                        + "secret's value changes in this rollout, it is a lossy step: while instances on both values run, a region "
                        + "refuses the other key's upserts (untrusted-record: not applied, the entry keeps its old value) and "
                        + "watermarks; rotate in three rollouts instead (docs/security.md, \"Rotating the watermark key\"): first "
                        + "previous-watermark-key: <new key> everywhere, then watermark-key: <new key> with previous-watermark-key: "
                        + "<old key>, then drop previous-watermark-key (give the new key its own variable, and this check names "
                        + "each step)");
            }
        }
        return out;
    }

    private static String variables(String text) {
        List<String> names = new ArrayList<>();
        Matcher m = VARIABLE.matcher(text);
        while (m.find()) {
            names.add("${" + m.group(1) + "}");
        }
        return names.isEmpty() ? "a variable" : String.join(" and ", names);
    }

    /** The setting's text as written under streams, or null when absent or not a single value. */
    private static String raw(String yaml, String key) {
        try {
            JsonNode value = YAML.readTree(yaml).path("streams").path(key);
            return value.isValueNode() && !value.isNull() ? value.asText() : null;
        } catch (JacksonException e) {
            return null;
        }
    }
}
