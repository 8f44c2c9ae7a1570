package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Headers;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.serde.EventJson;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code tracing}: a sampled change is one trace from capture to each region's apply, through the
 * public topic (us-east reads it: subscribed to every namespace) and a region topic (eu-west, one
 * namespace of two); records whose {@code traceparent} is garbage (untrusted: written by anyone
 * with access to the changes topic) are handled as untraced, never fatal.
 */
@ExtendWith(LetheStackExtension.class)
class TracingIT {
    private static final AttributeKey<Long> LSN = AttributeKey.longKey("lethe.lsn");
    private static final AttributeKey<String> REGION = AttributeKey.stringKey("lethe.region");

    private final InMemorySpanExporter spans = InMemorySpanExporter.create();
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();

    @AfterEach
    void close() {
        sdk.close();
    }

    @Test
    void oneTraceHoldsTheCaptureStreamsAndRegionSpansOfAChangeAndGarbageTraceparentsAreIgnored(LetheStack stack, TestScope scope)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "CREATE TABLE users (id int PRIMARY KEY, name text)",
                    "INSERT INTO products VALUES (1, 10)");
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: " + stack.redisUri("us-east") + " }",
                    "eu-west", "{ redis: " + stack.redisUri("eu-west") + ", namespaces: [product] }"), """
                            product:
                              table: public.products
                              keys: ["%sproduct:{id}"]
                            user:
                              table: public.users
                              keys: ["%suser:{id}"]
                            """.formatted(p, p), "tracing: { endpoint: \"http://127.0.0.1:4318/v1/traces\", sample-ratio: 1.0 }"));
            assertTrue(config.tracing().enabled());
            assertFalse(config.topics().invalidations("eu-west").equals(config.topics().invalidations()), "eu-west reads a region topic");
            assertEquals(config.topics().invalidations(), config.topics().invalidations("us-east"), "us-east reads the public topic");
            io.lethe.pipeline.Pipeline pipeline = f.start(config, Tracing.of(sdk, config.tracing().sampleRatio()));

            // untrusted headers ahead of the change, on its partition (same record key): a garbage traceparent on a
            // change streams cannot read (dead-lettered, its namespace reset) and on one it can (a reset)
            String recordKey = "public.products:1";
            long now = System.currentTimeMillis() * 1000;
            ChangeEvent reset = new ChangeEvent(ChangeEvent.SCHEMA_ID, "forged-reset", new SourceTable("postgres", "public", "products"),
                    Op.RESET, null, null, null, "1", 1, null, now, now, "product", null);
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                    stack.kafkaBootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
                for (byte[] value : List.of("not json".getBytes(StandardCharsets.UTF_8), EventJson.write(reset))) {
                    for (String garbage : List.of("00-zz-yy-01", "00-" + "a".repeat(32) + "-" + "b".repeat(16) + "-01" + "x".repeat(500))) {
                        ProducerRecord<String, byte[]> record = new ProducerRecord<>(config.topics().changes(), recordKey, value);
                        record.headers().add(Headers.SCHEMA, ChangeEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
                        record.headers().add(Headers.TRACEPARENT, garbage.getBytes(StandardCharsets.UTF_8));
                        producer.send(record).get();
                    }
                }
            }

            f.sql("UPDATE products SET price = 12345 WHERE id = 1");

            // the sentinel: capture's span of the update, and in its trace both regions' apply
            SpanData[] capture = new SpanData[1];
            Await.until("the update's trace through both regions", Duration.ofSeconds(90), () -> {
                List<SpanData> all = spans.getFinishedSpanItems();
                Optional<SpanData> root = all.stream().filter(s -> s.getName().equals("lethe.capture.publish")
                        && List.of("product").equals(s.getAttributes().get(AttributeKey.stringArrayKey("lethe.namespaces")))).findFirst();
                if (root.isEmpty()) {
                    return false;
                }
                capture[0] = root.get();
                return all.stream().filter(s -> s.getTraceId().equals(root.get().getTraceId()) && s.getName().equals("lethe.region.apply"))
                        .map(s -> s.getAttributes().get(REGION)).collect(Collectors.toSet()).containsAll(Set.of("us-east", "eu-west"));
            });
            String traceId = capture[0].getTraceId();
            List<SpanData> trace = spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
            assertFalse(capture[0].getParentSpanContext().isValid(), "capture's span starts the trace");
            List<SpanData> streams = trace.stream().filter(s -> s.getName().equals("lethe.streams.transform")).toList();
            assertEquals(1, streams.size(), "one streams span: " + trace);
            assertEquals(capture[0].getSpanId(), streams.get(0).getParentSpanId(), "streams continues capture's span");
            long lsn = capture[0].getAttributes().get(LSN);
            assertEquals(lsn, streams.get(0).getAttributes().get(LSN));
            for (SpanData region : trace.stream().filter(s -> s.getName().equals("lethe.region.apply")).toList()) {
                assertEquals(streams.get(0).getSpanId(), region.getParentSpanId(), "the region continues streams' span: " + region);
                assertEquals(lsn, region.getAttributes().get(LSN));
                assertEquals("applied", region.getAttributes().get(AttributeKey.stringKey("lethe.outcome")));
                assertEquals("product", region.getAttributes().get(AttributeKey.stringKey("lethe.namespace")));
                assertTrue(region.getStartEpochNanos() >= capture[0].getStartEpochNanos());
            }
            // no key, no row value in any span
            for (SpanData span : spans.getFinishedSpanItems()) {
                String attributes = span.getAttributes().toString();
                assertFalse(attributes.contains(p) || attributes.contains("12345") || attributes.contains("product:1"), attributes);
            }
            // the garbage traceparents started nothing: every trace begins with a span of capture
            Set<String> captured = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals("lethe.capture.publish"))
                    .map(SpanData::getTraceId).collect(Collectors.toSet());
            for (SpanData span : spans.getFinishedSpanItems()) {
                assertTrue(captured.contains(span.getTraceId()), "a span outside capture's traces: " + span);
            }
            assertNotNull(pipeline.streams());
            assertTrue(pipeline.failures().isEmpty(), "no stage failed: " + pipeline.failures());
        }
    }
}
