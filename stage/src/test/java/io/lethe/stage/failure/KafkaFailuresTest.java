package io.lethe.stage.failure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.junit.jupiter.api.Test;

class KafkaFailuresTest {
    @Test
    void kafkasOwnHierarchyDecides() {
        assertEquals(FailureClass.RETRIABLE, KafkaFailures.classify(new TimeoutException("x")).kind());
        assertEquals(FailureClass.RETRIABLE, KafkaFailures.classify(new NotLeaderOrFollowerException("x")).kind());
        assertEquals("record-too-large", KafkaFailures.classify(new RecordTooLargeException("x")).reason());
        assertEquals(FailureClass.POISON, KafkaFailures.classify(new SerializationException("x")).kind());
        assertEquals(FailureClass.FATAL_CONFIG, KafkaFailures.classify(new SaslAuthenticationException("x")).kind());
        Failure denied = KafkaFailures.classify(new TopicAuthorizationException("Not authorized to access topics: [lethe.changes]"));
        assertEquals("authorization", denied.reason());
        assertTrue(denied.fix().contains("docs/runbook.md"), denied.fix());
    }

    @Test
    void futuresAndWrappersAreSeenThrough() {
        assertEquals(FailureClass.POISON, KafkaFailures.classify(new ExecutionException(new RecordTooLargeException("x"))).kind());
        // Kafka Streams wraps a producer's error in its own exceptions
        assertEquals(FailureClass.FATAL_CONFIG, KafkaFailures.classify(
                new KafkaException("task failed", new TopicAuthorizationException("denied"))).kind());
    }

    @Test
    void anUnknownErrorIsRetriedNotDropped() {
        assertEquals(FailureClass.RETRIABLE, KafkaFailures.classify(new KafkaException("something new")).kind());
        assertEquals(FailureClass.RETRIABLE, KafkaFailures.classify(new IllegalStateException("bug")).kind());
    }
}
