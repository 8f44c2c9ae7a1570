package io.lethe.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code namespaces}: each namespace's table, key templates and patterns, version source, mode
 * and fence TTL, with the checks that keep its keys apart from Lethe's own and from other
 * namespaces'.
 */
final class NamespaceSection {
    /** Lethe's own keys in Redis (fences, epochs, locks) start with this; no template or pattern may. */
    private static final String RESERVED_PREFIX = "lethe:";
    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private NamespaceSection() {
    }

    static Map<String, NamespaceConfig> read(YamlSection doc, boolean publicPayloads) {
        Map<String, YamlSection> sections = doc.sections("namespaces");
        if (sections.isEmpty()) {
            doc.error("namespaces", "is required: at least one namespace (table and keys)");
        }
        Map<String, NamespaceConfig> out = new LinkedHashMap<>();
        for (Map.Entry<String, YamlSection> e : sections.entrySet()) {
            String name = e.getKey();
            YamlSection s = e.getValue();
            if (!ConfigLoader.NAME.matcher(name).matches()) {
                s.error(s.path(), "namespace names use letters, digits, '.', '_' and '-'");
            }
            out.put(name, namespace(name, s, publicPayloads));
        }
        return out;
    }

    private static NamespaceConfig namespace(String name, YamlSection s, boolean publicPayloadsDefault) {
        String table = ConfigLoader.table(s, "table", s.requiredString("table", "schema.table, e.g. public.products"));
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
        Duration fenceTtl = ConfigLoader.positive(s, "fence-ttl", Defaults.FENCE_TTL);
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
}
