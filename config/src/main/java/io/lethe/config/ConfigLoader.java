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
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads {@code lethe.yml} into a validated {@link LetheConfig}. {@code ${NAME}} and
 * {@code ${NAME:-default}} are replaced from the environment. Every problem in the file is
 * reported at once, each with its path and what is expected. Each section is read by its own
 * class ({@link SourceSection}, {@link KafkaSection}, {@link NamespaceSection}, {@link RegionSection},
 * {@link RuntimeSections}); the checks across sections are here.
 */
public final class ConfigLoader {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    /** Namespace and region names (regions' become topic names). */
    static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]*");
    static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?");

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
        SourceConfig source = SourceSection.read(doc.section("source"));
        YamlSection kafkaSection = doc.section("kafka");
        KafkaConfig kafka = KafkaSection.read(kafkaSection);
        Map<String, NamespaceConfig> namespaces = NamespaceSection.read(doc, kafka.publicPayloads());
        SourceSection.shardCoverage(source, namespaces, errors);
        Map<KafkaRole, KafkaIdentity> identities = new LinkedHashMap<>(KafkaSection.roles(kafkaSection, kafka));
        Map<String, RegionConfig> regions = RegionSection.read(doc, namespaces.keySet(), kafka, identities);
        kafka = kafka.withIdentities(identities);
        StreamsConfig streams = RuntimeSections.streams(doc.section("streams"));
        ApplyConfig apply = RuntimeSections.apply(doc.section("apply"));
        HttpConfig http = RuntimeSections.http(doc.section("http"));
        MetricsConfig metrics = RuntimeSections.metrics(doc.section("metrics"));
        TracingConfig tracing = RuntimeSections.tracing(doc.section("tracing"));
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

    /** A table setting's value as schema.table ({@code public.} added), or null; a malformed one is reported. */
    static String table(YamlSection s, String name, String value) {
        if (value == null) {
            return null;
        }
        if (!TABLE.matcher(value).matches()) {
            s.error(s.child(name), "expected schema.table (e.g. public.products), found '" + value + "'");
            return value;
        }
        return value.contains(".") ? value : "public." + value;
    }

    /** A duration setting that must be above zero. */
    static Duration positive(YamlSection s, String name, Duration def) {
        Duration d = s.duration(name, def);
        if (d.isZero() || d.isNegative()) {
            s.error(s.child(name), "must be greater than zero");
        }
        return d;
    }
}
