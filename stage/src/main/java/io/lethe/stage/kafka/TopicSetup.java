package io.lethe.stage.kafka;

import io.lethe.config.KafkaClients;
import io.lethe.config.KafkaConfig;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates Lethe's topics when they are missing, with the configured partitions and replication
 * factor (the broker's defaults when unset) and retention ({@code kafka.retention}; the DLQ's
 * {@code kafka.dlq-retention}, shorter by default: it holds row data). Existing topics are left as
 * they are ({@code lethe doctor} reports a DLQ that keeps records longer than configured).
 */
public final class TopicSetup {
    private static final Logger LOG = LoggerFactory.getLogger(TopicSetup.class);

    private TopicSetup() {
    }

    /** Every topic a full deployment uses: changes, public and per-region invalidations, manual purge requests, DLQ. */
    public static List<String> pipelineTopics(LetheConfig config) {
        Set<String> topics = new LinkedHashSet<>();
        topics.add(config.topics().changes());
        topics.add(config.topics().invalidations());
        config.regions().keySet().forEach(r -> topics.add(config.topics().invalidations(r)));
        topics.add(config.topics().invalidationRequests());
        topics.add(config.topics().dlq());
        return new ArrayList<>(topics);
    }

    /**
     * Waits until every partition of new topics has a leader, so the first produce does not meet
     * NOT_LEADER_OR_FOLLOWER (and, with idempotent producers, out-of-order sequence retries).
     */
    private static void awaitLeaders(Admin admin, List<String> topics, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean ready = true;
            try {
                for (org.apache.kafka.clients.admin.TopicDescription d : admin.describeTopics(topics).allTopicNames()
                        .get(timeout.toMillis(), TimeUnit.MILLISECONDS).values()) {
                    ready &= d.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                    throw e;
                }
                ready = false; // the broker's metadata has not caught up with the creation yet
            }
            if (ready) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("partitions of " + topics + " have no leader after " + timeout);
            }
            Thread.sleep(50);
        }
    }

    /**
     * Creates the missing ones of {@code topics} as {@code role} as {@link TopicSpec} says; returns the names it created.
     * With {@code kafka.create-topics: false} it creates nothing and instead checks that every one exists with the
     * settings Lethe needs, throwing one {@link IllegalStateException} that names each topic missing or wrong. A role
     * whose principal may not create topics needs them created beforehand (docs/runbook.md, "Least privilege"): the
     * listing only shows topics the principal may describe, and creating one that exists is harmless.
     */
    public static List<String> ensure(LetheConfig config, KafkaRole role, List<String> topics, Duration timeout) {
        KafkaConfig kafka = config.kafka();
        try (Admin admin = Admin.create(KafkaClients.common(kafka, role, "lethe-topic-setup"))) {
            if (!kafka.createTopics()) {
                List<String> wrong = check(admin, kafka, topics, timeout);
                if (!wrong.isEmpty()) {
                    throw new TopicsNotReadyException(lockedDownMessage(config, role.toString(), wrong));
                }
                return List.of();
            }
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String topic : topics) {
                if (!existing.contains(topic)) {
                    TopicSpec spec = TopicSpec.of(kafka, topic);
                    missing.add(new NewTopic(topic, Optional.ofNullable(spec.partitions()), Optional.ofNullable(spec.replicationFactor()))
                            .configs(spec.configs()));
                }
            }
            if (missing.isEmpty()) {
                return List.of();
            }
            List<String> created = new ArrayList<>();
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> e : admin.createTopics(missing).values().entrySet()) {
                try {
                    e.getValue().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    created.add(e.getKey());
                } catch (ExecutionException ex) {
                    if (!(ex.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + e.getKey() + ": " + ex.getCause().getMessage(),
                                ex.getCause());
                    }
                }
            }
            if (!created.isEmpty()) {
                LOG.info("created topics {}", created);
                awaitLeaders(admin, created, timeout);
            }
            return created;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot reach Kafka at " + kafka.bootstrapServers() + " to "
                    + (kafka.createTopics() ? "create" : "check") + " topics: " + e, e);
        }
    }

    /**
     * The one message of a locked-down cluster whose topics are missing or wrong: the setting, the file,
     * every topic with what is wrong and what is expected, and how to create them.
     */
    public static String lockedDownMessage(LetheConfig config, String who, List<String> wrong) {
        return "kafka.create-topics is false in " + config.file() + ", so " + who + " creates no topic, and " + wrong.size()
                + " topic(s) it uses are missing or wrong: " + String.join("; ", wrong)
                + ". Create or alter them as `lethe topics --print kafka-cli` (or `--print strimzi`) prints, or set kafka.create-topics: true";
    }

    /**
     * Each of {@code topics} that is missing or not as {@link TopicSpec} needs, as
     * {@code "<topic> is missing (create it with ...)"} or {@code "<topic> has <problem>, <problem>"}; empty
     * when every one is usable.
     */
    public static List<String> check(Admin admin, KafkaConfig kafka, List<String> topics, Duration timeout)
            throws InterruptedException, ExecutionException, TimeoutException {
        long ms = timeout.toMillis();
        Set<String> existing = admin.listTopics().names().get(ms, TimeUnit.MILLISECONDS);
        List<String> present = topics.stream().filter(existing::contains).distinct().toList();
        Map<String, org.apache.kafka.clients.admin.TopicDescription> described = present.isEmpty()
                ? Map.of()
                : admin.describeTopics(present).allTopicNames().get(ms, TimeUnit.MILLISECONDS);
        Map<org.apache.kafka.common.config.ConfigResource, org.apache.kafka.common.KafkaFuture<org.apache.kafka.clients.admin.Config>> configs = present
                .isEmpty()
                        ? Map.of()
                        : admin.describeConfigs(present.stream()
                                .map(t -> new org.apache.kafka.common.config.ConfigResource(
                                        org.apache.kafka.common.config.ConfigResource.Type.TOPIC, t))
                                .toList()).values();
        List<String> wrong = new ArrayList<>();
        for (String topic : new LinkedHashSet<>(topics)) {
            TopicSpec spec = TopicSpec.of(kafka, topic);
            if (!existing.contains(topic)) {
                wrong.add(topic + " is missing (expected " + spec.describe() + ")");
                continue;
            }
            org.apache.kafka.clients.admin.TopicDescription d = described.get(topic);
            Map<String, String> actual = new java.util.HashMap<>();
            try {
                configs.get(
                        new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic))
                        .get(ms, TimeUnit.MILLISECONDS).entries().forEach(entry -> actual.put(entry.name(), entry.value()));
            } catch (ExecutionException e) {
                wrong.add(
                        topic + ": cannot read its configs (" + e.getCause().getMessage() + "; the principal needs DescribeConfigs on it)");
                continue;
            }
            int replication = d.partitions().stream().mapToInt(p -> p.replicas().size()).min().orElse(0);
            List<String> problems = spec.problems(d.partitions().size(), replication, actual);
            if (!problems.isEmpty()) {
                wrong.add(topic + " has " + String.join(", ", problems));
            }
        }
        var changes = described.get(kafka.topics().changes());
        var requests = described.get(kafka.topics().invalidationRequests());
        if (changes != null && requests != null) {
            requestPartitions(kafka, changes.partitions().size(), requests.partitions().size()).ifPresent(wrong::add);
        }
        return wrong;
    }

    /**
     * Refuses to go on when the request topic has more partitions than the changes topic, whether Lethe
     * created the topics or not ({@link #check} reports it only under {@code kafka.create-topics: false}):
     * invalidation-streams calls it at start, before it reads either topic, since routing a request
     * partition without a changes partition would break the proof a topic move waits for.
     *
     * @throws IllegalStateException naming both topics, their partition counts and the fix
     */
    public static void requireCoPartitioned(LetheConfig config, KafkaRole role, Duration timeout) {
        KafkaConfig kafka = config.kafka();
        String changes = kafka.topics().changes();
        String requests = kafka.topics().invalidationRequests();
        try (Admin admin = Admin.create(KafkaClients.common(kafka, role, "lethe-topic-setup"))) {
            var described = admin.describeTopics(List.of(changes, requests)).allTopicNames().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Optional<String> wrong = requestPartitions(kafka, described.get(changes).partitions().size(),
                    described.get(requests).partitions().size());
            if (wrong.isPresent()) {
                throw new IllegalStateException(coPartitioningMessage(wrong.get()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing topics " + changes + " and " + requests, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe topics " + changes + " and " + requests + " at " + kafka.bootstrapServers()
                    + " to check their partitions: " + e, e);
        }
    }

    /** The refusal to start over {@code problem} ({@link #requestPartitions}). */
    static String coPartitioningMessage(String problem) {
        return "invalidation-streams will not start: " + problem + ". Streams routes request partition i in the task of changes "
                + "partition i (docs/design.md, \"Manual purges\"), so a request partition without a changes partition would be "
                + "routed outside the proof a topic move waits for";
    }

    /**
     * What is wrong with a request topic of {@code requests} partitions beside a changes topic of
     * {@code changes}: streams reads request partition {@code i} in the task of changes partition
     * {@code i}, whose watermarks prove its routing to a region after a topic move, so a request
     * partition without a changes partition would be routed outside that proof.
     */
    static Optional<String> requestPartitions(KafkaConfig kafka, int changes, int requests) {
        if (requests <= changes) {
            return Optional.empty();
        }
        return Optional.of(kafka.topics().invalidationRequests() + " has " + requests + " partitions, more than "
                + kafka.topics().changes() + "'s " + changes + " (add partitions to the changes topic, never only to the request topic)");
    }
}
