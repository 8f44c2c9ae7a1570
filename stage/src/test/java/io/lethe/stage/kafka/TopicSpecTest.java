package io.lethe.stage.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

/** What Lethe creates and what it requires of a topic an administrator made: {@link TopicSpec}. */
class TopicSpecTest {
    private static LetheConfig config(String kafkaExtra) {
        return ConfigLoader.parse("lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9092", partitions: 6, replication-factor: 3%s }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                  eu-west: { redis: "redis://127.0.0.1:6380", namespaces: [product] }
                namespaces:
                  product: { table: public.products, keys: ["product:{id}"] }
                  profile: { table: public.users, keys: ["profile:{id}"] }
                """.formatted(kafkaExtra), name -> null);
    }

    @Test
    void everyTopicWithTheSettingsLetheCreatesItWith() {
        io.lethe.config.LetheConfig config = config(", min-insync-replicas: 2");
        List<TopicSpec> all = TopicSpec.all(config);
        assertEquals(
                List.of("lethe.changes", "lethe.invalidations", config.topics().invalidations("eu-west"), "lethe.invalidation-requests",
                        "lethe.dlq", "lethe.capture.offsets"),
                all.stream().map(TopicSpec::name).toList());
        TopicSpec changes = all.get(0);
        assertEquals(6, changes.partitions());
        assertEquals((short) 3, changes.replicationFactor());
        assertEquals(Map.of("cleanup.policy", "delete", "min.insync.replicas", "2", "retention.ms", "604800000"), changes.configs());
        assertEquals(changes.partitions(), all.get(3).partitions(), "requests: as many partitions as the changes topic");
        assertEquals(changes.configs(), all.get(3).configs());
        assertEquals("259200000", all.get(4).configs().get("retention.ms"), "the DLQ keeps row data less long");
        TopicSpec offsets = all.get(5);
        assertEquals(1, offsets.partitions());
        assertEquals(Map.of("cleanup.policy", "compact", "min.insync.replicas", "2"), offsets.configs());
    }

    @Test
    void anExistingTopicNeedsAtLeastWhatLetheWouldCreate() {
        TopicSpec changes = TopicSpec.of(config(", min-insync-replicas: 2").kafka(), "lethe.changes");
        assertEquals(List.of(),
                changes.problems(6, 3, Map.of("cleanup.policy", "delete", "min.insync.replicas", "2", "retention.ms", "-1")));
        assertEquals(List.of(),
                changes.problems(12, 5, Map.of("cleanup.policy", "delete", "min.insync.replicas", "3", "retention.ms", "86400000")),
                "more partitions and replicas, a retention of the outage budget: usable");
        assertEquals(List.of("3 partition(s), expected at least 6 (kafka.partitions)",
                "replication factor 1, expected at least 3 (kafka.replication-factor)",
                "cleanup.policy=compact,delete, expected delete",
                "min.insync.replicas=1, expected at least 2 (kafka.min-insync-replicas)",
                "retention.ms=3600000, expected at least 86400000 or -1 (kafka.outage-budget PT24H)"),
                changes.problems(3, 1, Map.of("cleanup.policy", "compact,delete", "min.insync.replicas", "1", "retention.ms", "3600000")));
        TopicSpec offsets = TopicSpec.of(config("").kafka(), "lethe.capture.offsets");
        assertEquals(List.of("cleanup.policy=delete, expected compact"), offsets.problems(1, 3, Map.of("cleanup.policy", "delete")));
        assertTrue(TopicSpec.of(config("").kafka(), "lethe.dlq").problems(6, 3, Map.of("cleanup.policy", "delete", "retention.ms", "1000"))
                .isEmpty(), "the DLQ's retention is the doctor's warning, not a start-up refusal");
    }

    @Test
    void lockedDownRolesAreGrantedDescribeConfigsInsteadOfCreate() {
        LetheConfig open = config("");
        LetheConfig locked = config(", create-topics: false");
        for (KafkaRole role : KafkaAcls.roles(locked)) {
            assertFalse(KafkaAcls.bindings(locked, role).stream().anyMatch(b -> b.entry().operation() == AclOperation.CREATE),
                    role.toString());
            KafkaAcls.bindings(open, role).stream().filter(b -> b.entry().operation() == AclOperation.CREATE).forEach(created -> assertTrue(
                    KafkaAcls.bindings(locked, role).stream().anyMatch(b -> b.pattern().equals(created.pattern())
                            && b.pattern().resourceType() == ResourceType.TOPIC && b.entry().operation() == AclOperation.DESCRIBE_CONFIGS),
                    role + " may read the configs of " + created.pattern().name() + " it checks"));
        }
    }

    @Test
    void theRequestTopicHasNoMorePartitionsThanTheChangesTopic() {
        io.lethe.config.KafkaConfig kafka = config("").kafka();
        assertEquals(java.util.Optional.empty(), TopicSetup.requestPartitions(kafka, 6, 6));
        assertEquals(java.util.Optional.empty(), TopicSetup.requestPartitions(kafka, 12, 6), "a changes topic grown later");
        assertEquals(java.util.Optional.of("lethe.invalidation-requests has 12 partitions, more than lethe.changes's 6 (add partitions "
                + "to the changes topic, never only to the request topic)"), TopicSetup.requestPartitions(kafka, 6, 12));
        String refusal = TopicSetup.coPartitioningMessage(TopicSetup.requestPartitions(kafka, 6, 12).orElseThrow());
        assertTrue(refusal.startsWith("invalidation-streams will not start: lethe.invalidation-requests has 12 partitions, more than "
                + "lethe.changes's 6 (add partitions to the changes topic"), refusal);
    }
}
