package io.lethe.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code kafka}: the cluster, the topics' settings, and each role's own principal ({@code kafka.roles}). */
final class KafkaSection {
    private KafkaSection() {
    }

    static KafkaConfig read(YamlSection s) {
        if (!s.isPresent()) {
            s.error(s.path(), "is required: the Kafka cluster (bootstrap-servers)");
        }
        String bootstrap = s.requiredString("bootstrap-servers", "host:port[,host:port]");
        if (bootstrap != null && !bootstrap.matches("[^,\\s]+:\\d+(,[^,\\s]+:\\d+)*")) {
            s.error(s.child("bootstrap-servers"), "expected host:port[,host:port], found '" + bootstrap + "'");
        }
        Map<String, String> properties = s.stringMap("properties");
        s.has("roles"); // read by roles, with the identities of the regions' principals
        String prefix = s.string("topic-prefix", Defaults.TOPIC_PREFIX);
        if (prefix != null && !prefix.matches("[a-zA-Z0-9._-]+")) {
            s.error(s.child("topic-prefix"), "expected letters, digits, '.', '_' or '-', found '" + prefix + "'");
        }
        Integer partitions = s.optionalInteger("partitions", 1, 10_000);
        Integer replication = s.optionalInteger("replication-factor", 1, Short.MAX_VALUE);
        Duration retention = ConfigLoader.positive(s, "retention", Defaults.TOPIC_RETENTION);
        Duration outageBudget = ConfigLoader.positive(s, "outage-budget", Defaults.OUTAGE_BUDGET);
        Duration dlqRetention = ConfigLoader.positive(s, "dlq-retention", Defaults.DLQ_RETENTION);
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
    static Map<KafkaRole, KafkaIdentity> roles(YamlSection kafka, KafkaConfig base) {
        Map<KafkaRole, KafkaIdentity> out = new LinkedHashMap<>();
        YamlSection roles = kafka.section("roles");
        for (KafkaRole role : List.of(KafkaRole.CAPTURE, KafkaRole.STREAMS, KafkaRole.CLI, KafkaRole.APP)) {
            if (roles.has(role.name())) {
                KafkaIdentity identity = identity(roles.section(role.name()), base, false);
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
    static KafkaIdentity identity(YamlSection s, KafkaConfig base, boolean mayNameCluster) {
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
}
