package io.lethe.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The type of every setting of {@code lethe.yml}, by its path in {@link ConfigReference}, for the
 * JSON Schema ({@link ConfigSchema}); a test keeps one type per setting of the reference, in its order.
 */
final class SettingTypes {
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
    static final String INTERPOLATED = ".*\\$\\{[^}]+\\}.*";
    static final String DURATION_TEXT = "\\d+\\s*(ms|s|m|h|d)";

    /** Every setting's type, by its path in {@link ConfigReference}. */
    static final Map<String, Type> TYPES = types();

    private SettingTypes() {
    }

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
        t.put("streams.previous-watermark-key", STRING);
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
        t.put("apply.sweep.enabled", BOOLEAN);
        t.put("apply.sweep.keys-per-second", INTEGER);
        t.put("apply.sweep.heal", BOOLEAN);
        t.put("apply.sweep.confirm-within", DURATION);
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
}
