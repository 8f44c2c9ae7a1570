package io.lethe.streams.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Partitions are added to the changes topic to scale out while invalidation-streams runs. Changes
 * routed to a partition added later and deleted (retention, or an operator's delete-records) before
 * Streams mapped them were never committed by the application: the guard's periodic check must
 * count that gap as it does one below a committed offset, and reset every namespace.
 */
@ExtendWith(LetheStackExtension.class)
class RetentionGuardIT {
    @Test
    void changesDeletedUnmappedFromAPartitionAddedLaterResetEveryNamespace(LetheStack stack, TestScope scope) throws Exception {
        LetheConfig config = ConfigLoader.parse(scope.id() + "-lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
                kafka: { bootstrap-servers: "%s", topic-prefix: %s, partitions: 2 }
                streams: { application-id: %s-streams }
                regions:
                  us-east: { redis: "redis://127.0.0.1:1" }
                namespaces:
                  product: { table: public.products, keys: ["product:{id}"] }
                """.formatted(stack.kafkaBootstrapServers(), scope.topicPrefix(), scope.id()), System::getenv);
        TopicSetup.ensure(config, KafkaRole.CLI, TopicSetup.pipelineTopics(config), Duration.ofSeconds(30));
        String topic = config.topics().changes();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), KafkaRole.CLI, scope.id() + "-admin"));
                RetentionGuard guard = new RetentionGuard(config, registry, Clock.systemUTC())) {
            // the application mapped and committed both partitions the topic had
            admin.alterConsumerGroupOffsets(config.streams().applicationId(), Map.of(
                    new TopicPartition(topic, 0), new OffsetAndMetadata(0), new TopicPartition(topic, 1), new OffsetAndMetadata(0))).all()
                    .get();
            guard.check();
            assertEquals(0, lost(registry), "nothing was deleted yet");

            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
            TopicPartition added = new TopicPartition(topic, 2);
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.common(config.kafka(), KafkaRole.CLI,
                    scope.id() + "-producer"), new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < 2; i++) {
                    producer.send(new ProducerRecord<>(topic, 2, "public.products:" + i, new byte[0])).get();
                }
            }
            admin.deleteRecords(Map.of(added, RecordsToDelete.beforeOffset(2))).all().get();

            guard.check();
            assertEquals(1, lost(registry), "the changes deleted unmapped from " + added
                    + " (added after start-up, never committed by the application) must count as lost and reset every namespace");
        }
    }

    @Test
    void purgeRequestsDeletedUnroutedResetEveryNamespace(LetheStack stack, TestScope scope) throws Exception {
        LetheConfig config = ConfigLoader.parse(scope.id() + "-lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
                kafka: { bootstrap-servers: "%s", topic-prefix: %s, partitions: 1 }
                streams: { application-id: %s-streams }
                regions:
                  us-east: { redis: "redis://127.0.0.1:1" }
                namespaces:
                  product: { table: public.products, keys: ["product:{id}"] }
                """.formatted(stack.kafkaBootstrapServers(), scope.topicPrefix(), scope.id()), System::getenv);
        TopicSetup.ensure(config, KafkaRole.CLI, TopicSetup.pipelineTopics(config), Duration.ofSeconds(30));
        String requests = config.topics().invalidationRequests();
        TopicPartition partition = new TopicPartition(requests, 0);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), KafkaRole.CLI, scope.id() + "-admin"));
                RetentionGuard guard = new RetentionGuard(config, registry, Clock.systemUTC())) {
            admin.alterConsumerGroupOffsets(config.streams().applicationId(), Map.of(new TopicPartition(config.topics().changes(), 0),
                    new OffsetAndMetadata(0), partition, new OffsetAndMetadata(0))).all().get();
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.common(config.kafka(), KafkaRole.CLI,
                    scope.id() + "-producer"), new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < 2; i++) {
                    producer.send(new ProducerRecord<>(requests, 0, "product:" + i, new byte[0])).get();
                }
            }
            // retention (or delete-records) took two purges streams never routed: a region may still serve what they purged
            admin.deleteRecords(Map.of(partition, RecordsToDelete.beforeOffset(2))).all().get();

            guard.check();
            assertEquals(1, lost(registry), "the purge requests deleted unrouted from " + partition
                    + " must count as lost and reset every namespace");
        }
    }

    private static double lost(SimpleMeterRegistry registry) {
        return registry.find(RetentionGuard.OFFSETS_LOST).counters().stream().mapToDouble(c -> c.count()).sum();
    }
}
