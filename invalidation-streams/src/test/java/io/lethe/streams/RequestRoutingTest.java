package io.lethe.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.CloudEvents;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.Versions;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.metrics.StreamsMetrics;
import io.lethe.streams.topology.InvalidationTopology;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Manual purge requests ({@code lethe.invalidation-requests}) through the topology: routed with
 * streams' configuration to the public topic and the topics of the regions that may cache the target,
 * signed as streams signs; anything but a manual delete within its namespace's rules dead-lettered
 * with its reason, nothing routed.
 */
class RequestRoutingTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-08T10:00:00Z"), ZoneOffset.UTC);
    private static final String KEY = "a-watermark-key-of-32-characters";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private TopologyTestDriver driver;
    private LetheConfig config;
    private TestInputTopic<String, byte[]> requests;
    private TestOutputTopic<String, byte[]> publicTopic;
    private final Map<String, TestOutputTopic<String, byte[]>> regions = new LinkedHashMap<>();
    private TestOutputTopic<String, byte[]> dlq;

    private void start(String yaml) {
        config = ConfigLoader.parse("request-test.yml", yaml, name -> null);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "request-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        driver = new TopologyTestDriver(InvalidationTopology.build(config, new StreamsMetrics(registry), CLOCK), p);
        requests = driver.createInputTopic("lethe.invalidation-requests", new StringSerializer(), new ByteArraySerializer());
        publicTopic = driver.createOutputTopic("lethe.invalidations", new StringDeserializer(), new ByteArrayDeserializer());
        for (String r : List.of("us-east", "eu-west", "ap-tokyo")) {
            regions.put(r,
                    driver.createOutputTopic(config.topics().invalidations(r), new StringDeserializer(), new ByteArrayDeserializer()));
        }
        dlq = driver.createOutputTopic("lethe.dlq", new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private static InvalidationEvent request(String namespace, Scope scope, String key, String pattern, Action action, Op op,
            String version) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "manual:1", namespace, scope, key, pattern, action,
                action == Action.UPSERT ? "{\"price\":1}" : null, version, 700, null, 1L, 1L, 1L, null, op, null, "us-east");
    }

    private static InvalidationEvent purge(String namespace, String key) {
        return request(namespace, Scope.ROW, key, null, Action.DELETE, Op.MANUAL, "700");
    }

    private void send(InvalidationEvent e) {
        requests.pipeInput(e.target(), EventJson.write(e));
    }

    private static String header(TestRecord<String, byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private void assertNothingRouted() {
        assertTrue(publicTopic.isEmpty(), "nothing on the public topic");
        regions.forEach((r, topic) -> assertTrue(topic.isEmpty(), "nothing on " + r + "'s topic"));
    }

    private String deadLetterReason() {
        TestRecord<String, byte[]> dead = dlq.readRecord();
        assertTrue(dlq.isEmpty(), "one dead letter");
        return header(dead, Headers.DLQ_REASON);
    }

    @Test
    void aPurgeIsRoutedAsStreamsConfigurationRoutesItsNamespaceAndSigned() {
        start(TopologyTest.YAML.replace("streams: { max-key-bytes: 64 }", "streams: { max-key-bytes: 64, watermark-key: " + KEY + " }"));
        InvalidationEvent sent = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "manual:7", "product", Scope.ROW, "product:42", null,
                Action.DELETE, null, "700", 700, 99L, 1L, 1L, 1L, new SourceTable("shop", "public", "products"), Op.MANUAL, "change:1",
                "us-east", null);
        send(sent);
        // us-east reads the public topic (it caches every namespace), eu-west caches product; ap-tokyo neither
        TestRecord<String, byte[]> onPublic = publicTopic.readRecord();
        assertTrue(publicTopic.isEmpty());
        assertEquals("product:42", onPublic.key(), "keyed by the cache key: one partition holds every event of a key");
        assertEquals(CloudEvents.TYPE, header(onPublic, CloudEvents.TYPE_HEADER), "the public topic's records carry CloudEvents' headers");
        TestRecord<String, byte[]> onEuWest = regions.get("eu-west").readRecord();
        assertTrue(regions.get("eu-west").isEmpty());
        assertTrue(regions.get("ap-tokyo").isEmpty(), "ap-tokyo caches neither product nor a key it could hold");
        SigningKeys keys = config.streams().signingKeys();
        for (TestRecord<String, byte[]> r : List.of(onPublic, onEuWest)) {
            assertEquals(InvalidationEvent.SCHEMA_ID, header(r, Headers.SCHEMA));
            assertTrue(keys.verifies(r.headers(), r.key(), r.value()), "signed as streams signs its invalidations");
            InvalidationEvent routed = EventJson.readInvalidation(r.value());
            assertEquals("manual:7", routed.id());
            assertEquals("700", routed.version(), "the publisher's version: at least the primary's LSN when it asked");
            assertEquals(Action.DELETE, routed.action());
            assertEquals(Op.MANUAL, routed.op());
            assertNull(routed.source(), "nothing of the publisher's choosing beyond what a purge needs");
            assertNull(routed.txId());
            assertNull(routed.changeId());
            assertEquals(CLOCK.instant().toEpochMilli() * 1000, routed.emittedAt(), "stamped as routed");
        }
        assertTrue(dlq.isEmpty());
        assertEquals(1.0, registry.get(StreamsMetrics.EVENTS).tag("direction", "out").tag("region", "eu-west").counter().count());
    }

    @Test
    void aPurgeReachesARegionThatMayHoldTheKeyUnderAnotherNamespaceAndNoTopicTwice() {
        start(TopologyTest.YAML);
        // price is on the public topic (us-east) and ap-tokyo's; a pattern within price
        send(request("price", Scope.PATTERN, null, "price:4*", Action.DELETE, Op.MANUAL, Versions.MAX));
        assertEquals("price:4*", publicTopic.readRecord().key());
        assertTrue(publicTopic.isEmpty(), "once on the public topic, though us-east reads it");
        assertEquals("price:4*", regions.get("ap-tokyo").readRecord().key());
        assertTrue(regions.get("ap-tokyo").isEmpty());
        assertTrue(regions.get("eu-west").isEmpty(), "eu-west caches product only, whose keys price:4* cannot reach");
        assertTrue(dlq.isEmpty());
    }

    @Test
    void aKeyNoTemplateOfTheNamespaceRendersIsDeadLettered() {
        start(TopologyTest.YAML);
        send(purge("product", "order:1"));
        assertNothingRouted();
        assertEquals("foreign-key", deadLetterReason());
        assertEquals(1.0, registry.get(StreamsMetrics.DLQ).tag("reason", "foreign-key").counter().count());
    }

    @Test
    void lethesOwnKeysAreDeadLettered() {
        start(TopologyTest.YAML);
        send(purge("product", "lethe:fence:product:1"));
        assertNothingRouted();
        assertEquals("reserved-key", deadLetterReason());
    }

    @Test
    void aNamespaceStreamsDoesNotKnowIsDeadLettered() {
        start(TopologyTest.YAML);
        send(purge("gone", "gone:1"));
        assertNothingRouted();
        assertEquals("unknown-namespace", deadLetterReason());
    }

    @Test
    void aPatternThatCanReachOtherNamespacesKeysIsDeadLettered() {
        start(TopologyTest.YAML);
        send(request("product", Scope.PATTERN, null, "*", Action.DELETE, Op.MANUAL, "700"));
        assertNothingRouted();
        assertEquals("foreign-pattern", deadLetterReason());
        // not judged at all beyond a region's limits: the task maps the changes too
        send(request("product", Scope.PATTERN, null, "product:" + "*a".repeat(33), Action.DELETE, Op.MANUAL, "700"));
        assertNothingRouted();
        assertEquals("foreign-pattern", deadLetterReason());
    }

    @Test
    void anythingButAManualDeleteIsDeadLettered() {
        start(TopologyTest.YAML);
        send(request("price", Scope.ROW, "price:1", null, Action.UPSERT, Op.MANUAL, "3"));
        assertNothingRouted();
        assertEquals("refused-request", deadLetterReason(), "an upsert: streams would sign a payload an application chose");
        // a namespace-wide reset at the highest version, signed, would lift a region's LSN ceiling
        send(request("product", Scope.NAMESPACE, null, "product:*", Action.DELETE, Op.RESET, Versions.MAX));
        assertNothingRouted();
        assertEquals("refused-request", deadLetterReason());
        send(request("product", Scope.ROW, "product:1", null, Action.DELETE, Op.MANUAL, "18446744073709551616"));
        assertNothingRouted();
        assertEquals("refused-request", deadLetterReason(), "above the highest version");
    }

    @Test
    void anUnreadableRequestIsDeadLetteredWithItsBytes() {
        start(TopologyTest.YAML);
        requests.pipeInput("product:1", "not json".getBytes(StandardCharsets.UTF_8));
        assertNothingRouted();
        TestRecord<String, byte[]> dead = dlq.readRecord();
        assertEquals("malformed", header(dead, Headers.DLQ_REASON));
        assertNotNull(dead.value());
    }

    /**
     * Pipes a request at {@code timestamp} as a producer may write it: TestRecord refuses a negative
     * timestamp, the driver's own path (through the source's extractor, as a stream thread) does not.
     */
    private void pipeAt(long timestamp, String key, byte[] value) {
        try {
            java.lang.reflect.Method pipe = TopologyTestDriver.class.getDeclaredMethod("pipeRecord", String.class, long.class,
                    byte[].class, byte[].class, org.apache.kafka.common.header.Headers.class);
            pipe.setAccessible(true);
            pipe.invoke(driver, "lethe.invalidation-requests", timestamp, key.getBytes(StandardCharsets.UTF_8), value,
                    new org.apache.kafka.common.header.internals.RecordHeaders());
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aRequestAtANegativeOrFarFutureTimestampIsRoutedAtStreamsTimeAndKillsNothing() {
        start(TopologyTest.YAML);
        for (long ts : List.of(-1L, CLOCK.millis() + java.time.Duration.ofDays(365).toMillis())) {
            InvalidationEvent e = purge("product", "product:1");
            // an application's producer chooses CreateTime: Kafka Streams' default extractor throws on -1
            pipeAt(ts, e.target(), EventJson.write(e));
            TestRecord<String, byte[]> routed = publicTopic.readRecord();
            assertEquals(CLOCK.millis(), routed.timestamp(), "stamped with streams' time, not the publisher's " + ts);
            assertEquals(CLOCK.millis(), regions.get("eu-west").readRecord().timestamp());
        }
        assertTrue(dlq.isEmpty());
    }

    @Test
    void aPurgesCommitTimeAndCaptureTimeAreStreamsTimeNotThePublishers() {
        start(TopologyTest.YAML);
        long forged = 1L; // a commit 56 years ago: the region's lag gauge and latency histogram would believe it, signed
        send(new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "manual:8", "product", Scope.ROW, "product:42", null, Action.DELETE,
                null, "700", 700, null, forged, forged, forged, null, Op.MANUAL, null, "us-east", null));
        InvalidationEvent routed = EventJson.readInvalidation(publicTopic.readRecord().value());
        long now = CLOCK.instant().toEpochMilli() * 1000;
        assertEquals(now, routed.commitTs(), "the commit time streams vouches for is when it routed the purge");
        assertEquals(now, routed.capturedAt());
    }
}
