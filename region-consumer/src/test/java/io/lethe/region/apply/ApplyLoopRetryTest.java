package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.health.Misconfiguration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The region's retry of a batch, without servers: a scripted applier and Kafka's MockConsumer. */
class ApplyLoopRetryTest {
    private static final String TOPIC = "lethe.invalidations.us-east";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final Applied OK = new Applied(Map.of("deleted", 1), List.of());

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Misconfiguration misconfiguration = new Misconfiguration(registry, "region:us-east");
    /** What the applier does on each call: throws the failure, or applies when null. */
    private final Deque<Failure> outcomes = new ArrayDeque<>();
    /** The consumer's paused partitions as each call saw them. */
    private final List<Set<TopicPartition>> pausedAtCall = new ArrayList<>();
    private final List<Boolean> misconfiguredAtCall = new ArrayList<>();
    private MockConsumer<String, byte[]> consumer;
    private ApplyLoop loop;

    @BeforeEach
    void setUp() {
        LetheConfig config = ConfigLoader.parse("unit.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                apply: { retry-backoff-min: 5ms, retry-backoff-max: 20ms }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  product: { table: public.products, keys: ["product:{id}"] }
                """, name -> null);
        consumer = new MockConsumer<>("none");
        RegionMetrics metrics = new RegionMetrics(registry, "us-east");
        RegionDeadLetters deadLetters = new RegionDeadLetters(
                new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer()),
                "lethe.dlq", "us-east", metrics, Clock.systemUTC());
        OffsetLedger ledger = new OffsetLedger(consumer, Duration.ofSeconds(1), System::nanoTime, deadLetters::settled,
                () -> loop.holdsPartitions(), committed -> {
                }, () -> {
                }, p -> "");
        loop = new ApplyLoop(config, "us-east", consumer, plan -> {
            pausedAtCall.add(Set.copyOf(consumer.paused()));
            misconfiguredAtCall.add(misconfiguration.current().isPresent());
            Failure f = outcomes.poll();
            if (f != null) {
                throw new ApplyFailure(f, "scripted: " + f.reason());
            }
            return OK;
        }, ledger, deadLetters, null, null, metrics, misconfiguration, Clock.systemUTC(), List.of());
        consumer.subscribe(List.of(TOPIC), ledger);
        consumer.rebalance(List.of(P0));
        consumer.updateBeginningOffsets(Map.of(P0, 0L));
        consumer.seek(P0, 0);
    }

    @Test
    void aRetriableFailureRetriesTheSameBatchWithThePartitionsPaused() throws Exception {
        outcomes.add(Failure.retriable("timeout", new RuntimeException("Redis did not answer")));
        outcomes.add(Failure.retriable("loading", new RuntimeException("LOADING")));
        Applied applied = loop.applyUntilAcknowledged(BatchPlan.of(List.of()));
        assertEquals(OK, applied);
        assertEquals(List.of(Set.of(), Set.of(P0), Set.of(P0)), pausedAtCall, "paused from the first failure until Redis answered");
        assertTrue(consumer.paused().isEmpty(), "resumed once applied");
        assertFalse(loop.isRetrying());
        assertEquals(1.0, registry.get("lethe.region.retries").tag("kind", "timeout").counter().count());
        assertEquals(1.0, registry.get("lethe.region.retries").tag("kind", "loading").counter().count());
    }

    @Test
    void aConfigurationErrorIsReportedWhileItLastsAndClearedOnceApplied() throws Exception {
        outcomes.add(Failure.fatal("authorization", "grant the ACL", new RuntimeException("NOPERM")));
        outcomes.add(Failure.fatal("authorization", "grant the ACL", new RuntimeException("NOPERM")));
        assertNotNull(loop.applyUntilAcknowledged(BatchPlan.of(List.of())));
        assertEquals(List.of(false, true, true), misconfiguredAtCall, "health DOWN while Redis refuses");
        assertTrue(misconfiguration.current().isEmpty(), "and up again once it applies");
        assertEquals(0.0, registry.get(Misconfiguration.METRIC).gauge().value());
    }

    @Test
    void closingDuringARetryGivesUpWithoutApplying() throws Exception {
        for (int i = 0; i < 1000; i++) {
            outcomes.add(Failure.retriable("connection", new RuntimeException("refused")));
        }
        Thread stopper = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            loop.stop();
        });
        stopper.start();
        assertNull(loop.applyUntilAcknowledged(BatchPlan.of(List.of())), "nothing applied: nothing may be committed");
        stopper.join();
    }
}
