package io.lethe.embedded;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code lethe.yml} for a pipeline on a {@link LetheStack}, as the tests, the scenarios, the demo
 * and the benchmarks write it: the source (this stack's PostgreSQL, one database, its slot and
 * publication), Kafka (this stack's broker, a topic prefix, 3 partitions unless told), streams and
 * apply (their group names from one prefix), the regions and the namespaces. Each section takes
 * further settings as YAML lines; {@link #extra} adds top-level sections. Only text: the
 * configuration module reads and validates it.
 *
 * <pre>{@code
 * String yaml = LetheYml.on(stack, scope.database()).slot(scope.slot()).topicPrefix(scope.topicPrefix())
 *         .groups(scope.id()).region("us-east", "{ redis: " + stack.redisUri("us-east") + " }")
 *         .namespaces("product: { table: public.products, keys: [\"product:{id}\"] }").build();
 * }</pre>
 */
public final class LetheYml {
    private final LetheStack stack;
    private final String database;
    private String header = "";
    private String slot;
    private String publication;
    private String topicPrefix;
    private String groups;
    private int partitions = 3;
    private final List<String> source = new ArrayList<>();
    private final List<String> kafka = new ArrayList<>();
    private final List<String> streams = new ArrayList<>();
    private final List<String> apply = new ArrayList<>();
    private final Map<String, String> regions = new LinkedHashMap<>();
    private String namespaces = "";
    private String extra = "";

    private LetheYml(LetheStack stack, String database) {
        this.stack = stack;
        this.database = database;
    }

    /** A configuration whose source is {@code database} on {@code stack}'s PostgreSQL. */
    public static LetheYml on(LetheStack stack, String database) {
        return new LetheYml(stack, database);
    }

    /** A comment line (without {@code #}) at the top of the file. */
    public LetheYml header(String comment) {
        header = "# " + comment + "\n";
        return this;
    }

    /** The replication slot, and the publication too unless {@link #publication} names another. */
    public LetheYml slot(String name) {
        slot = name;
        return this;
    }

    public LetheYml publication(String name) {
        publication = name;
        return this;
    }

    /** {@code source.heartbeat-interval}, e.g. {@code 1s}. */
    public LetheYml heartbeat(String interval) {
        return source("heartbeat-interval: " + interval);
    }

    /** A further line under {@code source:}, e.g. {@code "mode: debezium-topics"}. */
    public LetheYml source(String setting) {
        source.add(setting);
        return this;
    }

    /** {@code kafka.topic-prefix}; also the groups' prefix unless {@link #groups} names another. */
    public LetheYml topicPrefix(String prefix) {
        topicPrefix = prefix;
        return this;
    }

    public LetheYml partitions(int count) {
        partitions = count;
        return this;
    }

    /** A further line under {@code kafka:}, e.g. {@code "replication-factor: 1"}. */
    public LetheYml kafka(String setting) {
        kafka.add(setting);
        return this;
    }

    /** The consumer groups: {@code streams.application-id} {@code <prefix>-streams}, {@code apply.group-prefix} {@code <prefix>-region-}. */
    public LetheYml groups(String prefix) {
        groups = prefix;
        return this;
    }

    /** A further line under {@code streams:}. */
    public LetheYml streams(String setting) {
        streams.add(setting);
        return this;
    }

    /** A further line under {@code apply:}. */
    public LetheYml apply(String setting) {
        apply.add(setting);
        return this;
    }

    /** A region and its settings as a YAML flow map, e.g. {@code { redis: redis://..., namespaces: [a] }}. */
    public LetheYml region(String name, String spec) {
        regions.put(name, spec);
        return this;
    }

    /** A region whose only setting is this stack's Redis of that name. */
    public LetheYml region(String name) {
        return region(name, "{ redis: " + stack.redisUri(name) + " }");
    }

    /** What goes under {@code namespaces:} (indented here). */
    public LetheYml namespaces(String yaml) {
        namespaces = yaml;
        return this;
    }

    /** Top-level YAML after the namespaces, e.g. {@code "http: { port: 0 }"}. */
    public LetheYml extra(String yaml) {
        extra = yaml;
        return this;
    }

    public String build() {
        if (slot == null || topicPrefix == null) {
            throw new IllegalStateException("a lethe.yml needs a slot and a topic prefix");
        }
        PostgresEndpoint pg = stack.postgres();
        String groupPrefix = groups == null ? topicPrefix : groups;
        StringBuilder y = new StringBuilder(header);
        y.append("source:\n");
        setting(y, "jdbc-url: " + pg.jdbcUrl(database));
        setting(y, "user: " + pg.user());
        setting(y, "slot: " + slot);
        setting(y, "publication: " + (publication == null ? slot : publication));
        source.forEach(s -> setting(y, s));
        y.append("kafka:\n");
        setting(y, "bootstrap-servers: " + stack.kafkaBootstrapServers());
        setting(y, "topic-prefix: " + topicPrefix);
        setting(y, "partitions: " + partitions);
        kafka.forEach(s -> setting(y, s));
        y.append("streams:\n");
        setting(y, "application-id: " + groupPrefix + "-streams");
        streams.forEach(s -> setting(y, s));
        y.append("apply:\n");
        setting(y, "group-prefix: " + groupPrefix + "-region-");
        apply.forEach(s -> setting(y, s));
        y.append("regions:\n");
        regions.forEach((name, spec) -> setting(y, name + ": " + spec));
        y.append("namespaces:\n").append(namespaces.indent(2));
        if (!extra.isEmpty()) {
            y.append(extra.endsWith("\n") ? extra : extra + "\n");
        }
        return y.toString();
    }

    private static void setting(StringBuilder y, String line) {
        y.append("  ").append(line).append('\n');
    }
}
