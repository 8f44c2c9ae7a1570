package io.lethe.stage.kafka;

import io.lethe.config.KafkaIdentity;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Topics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The least Kafka ACLs each role needs, derived from the configuration: the one source of the
 * runbook's recipe (docs/runbook.md, "Least privilege", pinned by LeastPrivilegeRecipeTest) and of the bindings LeastPrivilegeIT runs the
 * product under. Nothing here grants a cluster-wide operation, and no role may touch another
 * role's group or write a topic it only reads.
 *
 * <ul>
 *   <li>Idempotent producers need no {@code IdempotentWrite} on the cluster since Kafka 3.0 (KIP-679):
 *       {@code Write} on the topic is enough.</li>
 *   <li>{@code Create} is granted on the literal topics a role creates when they are missing
 *       (TopicSetup). Under {@code kafka.create-topics: false} an administrator creates them beforehand:
 *       {@code DescribeConfigs} replaces it, for the start-up check of their settings.</li>
 *   <li>The streams topology keeps no state and never repartitions (its golden topology.txt), so the
 *       application has no internal topics to grant.</li>
 * </ul>
 */
public final class KafkaAcls {
    /** The principal a role is given when its identity names no user. */
    public static String defaultPrincipal(KafkaRole role) {
        return "User:lethe-" + (role.region() == null ? role.name() : "region-" + role.region());
    }

    private KafkaAcls() {
    }

    /** The principal of {@code role}: {@code User:<its configured user>}, else {@link #defaultPrincipal}. */
    public static String principal(LetheConfig config, KafkaRole role) {
        KafkaIdentity identity = config.kafka().identities().get(role);
        return identity != null && identity.user() != null ? "User:" + identity.user() : defaultPrincipal(role);
    }

    /** Every role of the configuration: capture, streams, each region, the CLI, applications purging keys. */
    public static List<KafkaRole> roles(LetheConfig config) {
        List<KafkaRole> roles = new ArrayList<>(List.of(KafkaRole.CAPTURE, KafkaRole.STREAMS));
        config.regions().keySet().forEach(r -> roles.add(KafkaRole.region(r)));
        roles.add(KafkaRole.CLI);
        roles.add(KafkaRole.APP);
        return roles;
    }

    /** The ACLs of {@code role}'s principal, resource by resource. */
    public static List<AclBinding> bindings(LetheConfig config, KafkaRole role) {
        String who = principal(config, role);
        List<AclBinding> out = new ArrayList<>();
        grants(config, role).forEach((resource, operations) -> operations
                .forEach(op -> out.add(new AclBinding(resource, new AccessControlEntry(who, "*", op, AclPermissionType.ALLOW)))));
        return out;
    }

    /** The operations {@code role} is granted, resource by resource, in a stable order (the recipe's and {@link KafkaResources}'). */
    static Map<ResourcePattern, Set<AclOperation>> grants(LetheConfig config, KafkaRole role) {
        Topics t = config.topics();
        Map<ResourcePattern, Set<AclOperation>> g = new LinkedHashMap<>();
        switch (role.name()) {
            case "capture" -> {
                // publishes changes (idempotent), dead-letters what it cannot publish, keeps Debezium's offsets
                // (Connect's store checks that the topic is compacted: DescribeConfigs)
                topic(g, t.changes(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                topic(g, t.dlq(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                if (config.source().readsDebeziumTopics()) {
                    // source.mode debezium-topics: no Debezium of its own (no offsets topic); reads the existing connector's
                    // topics and commits its progress in its group
                    var dbz = config.source().debeziumTopics();
                    config.tables().forEach(table -> topic(g, dbz.topicOf(table), AclOperation.READ, AclOperation.DESCRIBE));
                    topic(g, dbz.heartbeatTopic(), AclOperation.READ, AclOperation.DESCRIBE);
                    if (dbz.transactionMetadata()) {
                        // every change waits for its transaction's END: without this topic nothing would go out
                        topic(g, dbz.transactionTopic(), AclOperation.READ, AclOperation.DESCRIBE);
                    }
                    add(g, new ResourcePattern(ResourceType.GROUP, dbz.group(config.kafka().topicPrefix()), PatternType.LITERAL),
                            AclOperation.READ);
                    // the table watch's state, kept for the next translator in the topic capture keeps its offsets in
                    topic(g, t.captureOffsets(), AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                    break;
                }
                topic(g, t.captureOffsets(), AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
                        AclOperation.CREATE);
            }
            case "streams" -> {
                String app = config.streams().applicationId();
                // reads changes and writes its retention resets into them; ensures every pipeline topic
                topic(g, t.changes(), AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                for (String topic : TopicSetup.pipelineTopics(config)) {
                    if (topic.equals(t.invalidationRequests())) {
                        // reads the manual purges it routes; writes none (publishers do)
                        topic(g, topic, AclOperation.READ, AclOperation.DESCRIBE, AclOperation.CREATE);
                    } else if (!topic.equals(t.changes())) {
                        topic(g, topic, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                    }
                }
                add(g, new ResourcePattern(ResourceType.GROUP, app, PatternType.LITERAL), AclOperation.READ);
                if ("exactly_once_v2".equals(config.streams().processingGuarantee())) {
                    // the producers' transactional ids are <application.id>-<process id>-<thread>
                    add(g, new ResourcePattern(ResourceType.TRANSACTIONAL_ID, app + "-", PatternType.PREFIXED),
                            AclOperation.WRITE, AclOperation.DESCRIBE);
                }
            }
            case "region" -> {
                String r = role.region();
                topic(g, t.invalidations(r), AclOperation.READ, AclOperation.DESCRIBE, AclOperation.CREATE);
                // a topic move (TopicMove): the group's offsets on another of Lethe's invalidation topics are listed only for
                // topics the principal may describe: every name a region's topic can take under this configuration
                topic(g, t.invalidations(), AclOperation.DESCRIBE);
                // (the other regions' subscription topics, and the names regions' topics had before they were named by
                // subscription, <prefix>.invalidations.<region>, for the move off them; a move off a topic no longer in the
                // configuration is known from the region's Redis, lethe:topic:<group>, without listing offsets)
                config.regions().keySet().forEach(other -> {
                    topic(g, t.invalidations(other), AclOperation.DESCRIBE);
                    topic(g, t.prefix() + ".invalidations." + other, AclOperation.DESCRIBE);
                });
                topic(g, t.dlq(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
                // partition counts of the changes topic, for the applied watermark
                topic(g, t.changes(), AclOperation.DESCRIBE);
                add(g, new ResourcePattern(ResourceType.GROUP, config.apply().groupPrefix() + r, PatternType.LITERAL), AclOperation.READ);
                add(g, new ResourcePattern(ResourceType.GROUP, config.apply().groupPrefix() + r + "-prober", PatternType.LITERAL),
                        AclOperation.READ);
            }
            case "cli" -> {
                // doctor, lag, invalidate, dlq replay: read and write the invalidation topics, the changes topic (replay of
                // streams' dead letters) and the DLQ; only describe capture's offsets (an operator's credential must not be
                // able to move Debezium past WAL it never read); the groups' offsets; its replay group
                add(g, new ResourcePattern(ResourceType.TOPIC, t.invalidations(), PatternType.PREFIXED), AclOperation.READ,
                        AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS, AclOperation.CREATE);
                topic(g, t.changes(), AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
                        AclOperation.CREATE);
                topic(g, t.dlq(), AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
                        AclOperation.CREATE);
                topic(g, t.captureOffsets(), AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS);
                // lethe invalidate requests its purges there (streams routes them), creating the topic when it is missing
                topic(g, t.invalidationRequests(), AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DESCRIBE_CONFIGS,
                        AclOperation.CREATE);
                add(g, new ResourcePattern(ResourceType.GROUP, "lethe-dlq-replay", PatternType.LITERAL), AclOperation.READ);
                add(g, new ResourcePattern(ResourceType.GROUP, config.apply().groupPrefix(), PatternType.PREFIXED), AclOperation.DESCRIBE);
                add(g, new ResourcePattern(ResourceType.GROUP, config.streams().applicationId(), PatternType.LITERAL),
                        AclOperation.DESCRIBE);
            }
            case "app" -> {
                // an application's purges (cache-client Invalidations, Spring @CacheEvict): write the request topic, nothing
                // else: no invalidation topic (streams judges, signs and routes each request with the configuration the regions
                // run), not the changes topic (streams would map and sign what it wrote there), not the DLQ, no group. It needs
                // no signing key. (Publishers of releases before 2026-12-08 wrote the region topics themselves: keep their grants
                // until every one is upgraded, docs/security.md)
                topic(g, t.invalidationRequests(), AclOperation.WRITE, AclOperation.DESCRIBE);
            }
            default -> throw new IllegalArgumentException("no ACLs for role " + role);
        }
        if (!config.kafka().createTopics()) {
            g.forEach((resource, operations) -> {
                if (resource.resourceType() == ResourceType.TOPIC && operations.remove(AclOperation.CREATE)) {
                    operations.add(AclOperation.DESCRIBE_CONFIGS);
                }
            });
        }
        return g;
    }

    private static void topic(Map<ResourcePattern, Set<AclOperation>> g, String topic, AclOperation... operations) {
        add(g, new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL), operations);
    }

    private static void add(Map<ResourcePattern, Set<AclOperation>> g, ResourcePattern resource, AclOperation... operations) {
        Set<AclOperation> set = g.computeIfAbsent(resource, r -> new LinkedHashSet<>());
        set.addAll(List.of(operations));
    }

    /**
     * The {@code kafka-acls} commands that grant every role its ACLs ({@code B} stands for the
     * bootstrap servers): the runbook's recipe.
     */
    public static String commands(LetheConfig config) {
        StringBuilder out = new StringBuilder();
        for (KafkaRole role : roles(config)) {
            String who = principal(config, role);
            out.append("# ").append(role).append(" (").append(role.configPath()).append(")\n");
            grants(config, role).forEach((resource, operations) -> {
                out.append("kafka-acls --bootstrap-server B --add --allow-principal ").append(who);
                out.append(operations.stream().map(op -> " --operation " + camel(op)).collect(Collectors.joining()));
                out.append(" --").append(resource.resourceType() == ResourceType.TRANSACTIONAL_ID
                        ? "transactional-id"
                        : resource.resourceType().name().toLowerCase(Locale.ROOT)).append(' ').append(resource.name());
                if (resource.patternType() == PatternType.PREFIXED) {
                    out.append(" --resource-pattern-type prefixed");
                }
                out.append('\n');
            });
        }
        return out.toString();
    }

    /** {@code DESCRIBE_CONFIGS} as kafka-acls and Strimzi spell it: {@code DescribeConfigs}. */
    static String camel(AclOperation op) {
        return java.util.Arrays.stream(op.name().split("_"))
                .map(w -> w.charAt(0) + w.substring(1).toLowerCase(Locale.ROOT)).collect(Collectors.joining());
    }
}
