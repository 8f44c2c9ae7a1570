package io.lethe.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Topics;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LetheStackExtension.class)
class InvalidationSubscriberIT {

    private static InvalidationEvent event(String id, String key) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, id, "product", Scope.ROW, key, null, Action.DELETE, null,
                "100", 100, 7L, 1, 2, 3, null, Op.UPDATE, null, null);
    }

    @Test
    void handlesEachEventOnceSkippingRedeliveriesAndBadRecords(LetheStack stack, TestScope scope) throws Exception {
        Topics topics = new Topics(scope.topicPrefix());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(topics.invalidations(), 2, (short) 1))).all().get();
        }
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            InvalidationEvent a = event("a", "product:1");
            producer.send(new ProducerRecord<>(topics.invalidations(), a.key(), EventJson.write(a)));
            producer.send(new ProducerRecord<>(topics.invalidations(), a.key(), EventJson.write(a))); // redelivered
            producer.send(new ProducerRecord<>(topics.invalidations(), "x", "not json".getBytes(StandardCharsets.UTF_8)));
            InvalidationEvent sentinel = event("sentinel", "product:1");
            producer.send(new ProducerRecord<>(topics.invalidations(), sentinel.key(), EventJson.write(sentinel))).get();
        }
        List<String> handled = new ArrayList<>();
        try (InvalidationSubscriber subscriber = new InvalidationSubscriber(stack.kafkaBootstrapServers(), scope.id(),
                scope.topicPrefix(), e -> handled.add(e.id()))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!handled.contains("sentinel") && System.nanoTime() < deadline) {
                subscriber.pollOnce(Duration.ofMillis(200));
            }
        }
        assertEquals(List.of("a", "sentinel"), handled);
    }
}
