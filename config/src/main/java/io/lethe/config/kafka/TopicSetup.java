package io.lethe.config.kafka;

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

    /** Every topic a full deployment uses: changes, public and per-region invalidations, DLQ. */
    public static List<String> pipelineTopics(LetheConfig config) {
        Set<String> topics = new LinkedHashSet<>();
        topics.add(config.topics().changes());
        topics.add(config.topics().invalidations());
        config.regions().keySet().forEach(r -> topics.add(config.topics().invalidations(r)));
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
     * Creates the missing ones of {@code topics} as {@code role}; returns the names it created. A role
     * whose principal may not create topics needs them created beforehand (docs/runbook.md, "Least privilege"): the
     * listing only shows topics the principal may describe, and creating one that exists is harmless.
     */
    public static List<String> ensure(KafkaConfig kafka, KafkaRole role, List<String> topics, Duration timeout) {
        try (Admin admin = Admin.create(KafkaClients.common(kafka, role, "lethe-topic-setup"))) {
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String topic : topics) {
                if (!existing.contains(topic)) {
                    // retention set explicitly: a stage down longer than it loses what it did not read (and then
                    // invalidates wholesale), so it is a decision, not the broker's default
                    missing.add(new NewTopic(topic, Optional.ofNullable(kafka.partitions()),
                            Optional.ofNullable(kafka.replicationFactor()))
                            .configs(Map.of("retention.ms", Long.toString(kafka.retentionOf(topic).toMillis()))));
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
                        throw new IllegalStateException("cannot create topic " + e.getKey() + ": " + ex.getCause().getMessage(), ex.getCause());
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
            throw new IllegalStateException("cannot reach Kafka at " + kafka.bootstrapServers() + " to create topics: " + e, e);
        }
    }
}
