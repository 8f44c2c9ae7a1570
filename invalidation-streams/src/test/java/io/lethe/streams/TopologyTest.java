package io.lethe.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.EventSchemas;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.Versions;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.mapping.InvalidationMapper;
import io.lethe.streams.metrics.StreamsMetrics;
import io.lethe.streams.topology.InvalidationTopology;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every mapping rule of the fan-out topology, through Kafka Streams' TopologyTestDriver. */
class TopologyTest {
    static final String YAML = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            streams: { max-key-bytes: 64 }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
              eu-west: { redis: "redis://127.0.0.1:6380", namespaces: [product] }
              ap-tokyo: { redis: "redis://127.0.0.1:6381", namespaces: [price, orders] }
            namespaces:
              product:
                table: public.products
                keys: ["product:{id}", "product:slug:{slug}"]
                patterns: ["search:products:*"]
              category:
                table: public.products
                keys: ["category:{category_id}:products"]
              price:
                table: public.products
                keys: ["price:{id}"]
                mode: upsert
                payload-columns: [price]
                version: column:version
              orders:
                table: public.orders
                keys: ["order:{id}"]
            """;
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC);
    private static final SourceTable PRODUCTS = new SourceTable("shop", "public", "products");

    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> changes;
    private TestOutputTopic<String, byte[]> all;
    private Map<String, TestOutputTopic<String, byte[]>> regions;
    private TestOutputTopic<String, byte[]> dlq;
    private SimpleMeterRegistry registry;

    static LetheConfig config() {
        return ConfigLoader.parse("topology-test.yml", YAML, name -> null);
    }

    static Topology topology(SimpleMeterRegistry registry) {
        return InvalidationTopology.build(config(), new StreamsMetrics(registry), CLOCK);
    }

    @BeforeEach
    void start() {
        registry = new SimpleMeterRegistry();
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        driver = new TopologyTestDriver(topology(registry), p);
        changes = driver.createInputTopic("lethe.changes", new StringSerializer(), new ByteArraySerializer());
        all = driver.createOutputTopic("lethe.invalidations", new StringDeserializer(), new ByteArrayDeserializer());
        regions = new LinkedHashMap<>();
        for (String r : List.of("us-east", "eu-west", "ap-tokyo")) {
            regions.put(r,
                    driver.createOutputTopic(config().topics().invalidations(r), new StringDeserializer(), new ByteArrayDeserializer()));
        }
        dlq = driver.createOutputTopic("lethe.dlq", new StringDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private static ChangeEvent change(Op op, long lsn, Map<String, Object> before, Map<String, Object> after) {
        Map<String, Object> row = after != null ? after : before;
        return new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(lsn, PRODUCTS), PRODUCTS, op,
                row == null ? null : Map.of("id", row.get("id")), before, after, Long.toString(lsn), lsn, 9L,
                1_000_000L, 1_000_500L, null, null);
    }

    private static Map<String, Object> row(int id, String slug, int category, int price, int version) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("id", id);
        r.put("slug", slug);
        r.put("category_id", category);
        r.put("price", price);
        r.put("version", version);
        return r;
    }

    private void send(ChangeEvent e) {
        changes.pipeInput(e.recordKey(), EventJson.write(e));
    }

    private static List<InvalidationEvent> read(TestOutputTopic<String, byte[]> topic) {
        return topic.readRecordsToList().stream().map(r -> {
            InvalidationEvent e = EventJson.readInvalidation(r.value());
            assertEquals(e.target(), r.key(), "keyed by cache key so one partition holds every event of a key");
            return e;
        }).toList();
    }

    private static Set<String> targets(List<InvalidationEvent> events) {
        return events.stream().map(InvalidationEvent::target).collect(Collectors.toSet());
    }

    @Test
    void anInsertInvalidatesEveryKeyPatternAndDerivedKeyAndUpsertsThePrice() {
        send(change(Op.CREATE, 500, null, row(1, "mug", 7, 10, 3)));
        List<InvalidationEvent> out = read(all);
        Map<String, InvalidationEvent> byTarget = out.stream().collect(Collectors.toMap(InvalidationEvent::target, e -> e));
        assertEquals(Set.of("product:1", "product:slug:mug", "search:products:*", "category:7:products", "price:1"), byTarget.keySet());

        InvalidationEvent product = byTarget.get("product:1");
        assertEquals(Scope.ROW, product.scope());
        assertEquals(Action.DELETE, product.action(), "INSERT invalidates too: negative entries must go");
        assertEquals("500", product.version());
        assertEquals(CLOCK.instant().toEpochMilli() * 1000, product.emittedAt());

        assertEquals(Scope.DERIVED, byTarget.get("product:slug:mug").scope(), "slug is not the primary key");
        assertEquals("0", byTarget.get("product:slug:mug").version());
        assertEquals(Scope.PATTERN, byTarget.get("search:products:*").scope());
        assertEquals("500", byTarget.get("search:products:*").version());
        assertEquals(Scope.DERIVED, byTarget.get("category:7:products").scope());

        InvalidationEvent price = byTarget.get("price:1");
        assertEquals(Action.UPSERT, price.action());
        assertEquals("{\"price\":10}", price.payload());
        assertEquals("3", price.version(), "version: column:version");
    }

    /**
     * Every upsert carries what its namespace's entries hold under the configuration streams runs
     * ({@code lethe.holds}), on the region topics and the public one: a region on another file applies an
     * upsert stamped otherwise as the delete at its version. Deletes carry no stamp.
     */
    @Test
    void everyUpsertIsStampedWithWhatItsNamespacesEntriesHold() {
        send(change(Op.UPDATE, 600, row(2, "cup", 1, 10, 1), row(2, "cup", 1, 11, 2)));
        String price = config().namespaces().get("price").holdsFingerprint();
        assertEquals(16, price.length(), "8 bytes of SHA-256, hex: " + price);
        int upserts = 0;
        List<TestRecord<String, byte[]>> records = new ArrayList<>(all.readRecordsToList());
        records.addAll(regions.get("ap-tokyo").readRecordsToList());
        for (TestRecord<String, byte[]> r : records) {
            InvalidationEvent e = EventJson.readInvalidation(r.value());
            Header holds = r.headers().lastHeader(io.lethe.schemas.Headers.HOLDS);
            if (e.action() == Action.UPSERT) {
                upserts++;
                assertNotNull(holds, "the upsert of " + r.key() + " carries lethe.holds");
                assertEquals(price, new String(holds.value(), java.nio.charset.StandardCharsets.UTF_8), r.key());
            } else {
                assertNull(holds, "a delete carries no stamp: " + r.key());
            }
        }
        assertEquals(2, upserts, "the price upsert on the public topic and on ap-tokyo's");
        LetheConfig byLsn = ConfigLoader.parse("by-lsn.yml", YAML.replace("    version: column:version\n", ""), name -> null);
        assertNotEquals(price, byLsn.namespaces().get("price").holdsFingerprint(), "another version source: another stamp");
    }

    /**
     * The public topic's records carry CloudEvents 1.0 binary-mode headers (additive: the value is the
     * same JSON); the region topics' records do not.
     */
    @Test
    void thePublicTopicCarriesCloudEventsHeadersBesideTheUnchangedJson() {
        send(change(Op.UPDATE, 600, row(2, "cup", 1, 10, 1), row(2, "cup", 1, 11, 2)));
        for (org.apache.kafka.streams.test.TestRecord<String, byte[]> r : all.readRecordsToList()) {
            InvalidationEvent e = EventJson.readInvalidation(r.value());
            Map<String, String> ce = new LinkedHashMap<>();
            r.headers().forEach(h -> ce.put(h.key(), new String(h.value(), java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals("1.0", ce.get("ce_specversion"), r.key());
            assertEquals(e.id(), ce.get("ce_id"));
            assertEquals("/lethe/lethe", ce.get("ce_source"));
            assertEquals("io.lethe.invalidation.v1", ce.get("ce_type"));
            assertEquals("1970-01-01T00:00:01Z", ce.get("ce_time"), "the commit time (commitTs 1,000,000 us), RFC 3339");
            assertEquals(r.key(), ce.get("ce_subject"), "the subject is the record key");
            assertEquals("application/json", ce.get("content-type"));
            assertEquals(InvalidationEvent.SCHEMA_ID, ce.get(io.lethe.schemas.Headers.SCHEMA), "Lethe's own header stays");
        }
        for (org.apache.kafka.streams.test.TestRecord<String, byte[]> r : regions.get("eu-west").readRecordsToList()) {
            for (org.apache.kafka.common.header.Header h : r.headers()) {
                assertFalse(h.key().startsWith("ce_"), "a region topic is Lethe's own: " + h.key());
            }
        }
    }

    @Test
    void regionsReceiveOnlyTheNamespacesTheySubscribeTo() {
        send(change(Op.UPDATE, 600, row(2, "cup", 1, 10, 1), row(2, "cup", 1, 11, 2)));
        assertEquals("lethe.invalidations", config().topics().invalidations("us-east"),
                "us-east subscribes to everything: it reads the public topic, no copy of it is written");
        assertEquals(5, read(all).size());
        assertEquals(Set.of("product"),
                read(regions.get("eu-west")).stream().map(InvalidationEvent::namespace).collect(Collectors.toSet()));
        assertEquals(Set.of("price:2"), targets(read(regions.get("ap-tokyo"))));
    }

    @Test
    void regionsWithTheSameSubscriptionsShareOneTopicWrittenOnce() {
        LetheConfig shared = ConfigLoader.parse("shared.yml", YAML.replace(
                "  ap-tokyo: { redis: \"redis://127.0.0.1:6381\", namespaces: [price, orders] }",
                "  ap-tokyo: { redis: \"redis://127.0.0.1:6381\", namespaces: [product] }"), name -> null);
        String sharedTopic = shared.topics().invalidations("eu-west");
        assertEquals(sharedTopic, shared.topics().invalidations("ap-tokyo"), "one topic for the subscription set");
        assertTrue(sharedTopic.startsWith("lethe.invalidations.subs-"), sharedTopic);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test-shared");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        try (TopologyTestDriver d = new TopologyTestDriver(InvalidationTopology.build(shared, new StreamsMetrics(new SimpleMeterRegistry()),
                CLOCK), p)) {
            d.createInputTopic("lethe.changes", new StringSerializer(), new ByteArraySerializer()).pipeInput(
                    PRODUCTS.qualifiedName() + ":2",
                    EventJson.write(change(Op.UPDATE, 600, row(2, "cup", 1, 10, 1), row(2, "cup", 1, 11, 2))));
            List<InvalidationEvent> both = read(d.createOutputTopic(sharedTopic, new StringDeserializer(),
                    new ByteArrayDeserializer()));
            assertEquals(Set.of("product"), both.stream().map(InvalidationEvent::namespace).collect(Collectors.toSet()));
            assertEquals(both.size(), targets(both).size(), "each invalidation once, for both regions");
        }
    }

    @Test
    void aNamespaceOffThePublicTopicNeverReachesItAndStrippedUpsertsReachItAsDeletesWithoutTheRow() {
        // issue 34: other teams read the public topic; keys and upsert payloads are built from row values
        LetheConfig privacy = ConfigLoader.parse("privacy.yml", YAML
                .replace("    payload-columns: [price]\n", "    payload-columns: [price]\n    public-payloads: false\n")
                .replace("    keys: [\"order:{id}\"]\n", "    keys: [\"order:{id}\"]\n    public-topic: false\n"), name -> null);
        assertTrue(privacy.topics().invalidations("us-east").startsWith("lethe.invalidations.subs-"),
                "the public topic is no longer complete: us-east, subscribed to everything, reads its own topic");
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test-privacy");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        try (TopologyTestDriver d = new TopologyTestDriver(
                InvalidationTopology.build(privacy, new StreamsMetrics(new SimpleMeterRegistry()),
                        CLOCK),
                p)) {
            TestInputTopic<String, byte[]> in = d.createInputTopic("lethe.changes", new StringSerializer(), new ByteArraySerializer());
            in.pipeInput(PRODUCTS.qualifiedName() + ":2", EventJson.write(change(Op.UPDATE, 600, row(2, "cup", 1, 10, 1),
                    row(2, "cup", 1, 11, 2))));
            SourceTable orders = new SourceTable("shop", "public", "orders");
            ChangeEvent order = new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.rowChangeId(610, orders), orders, Op.CREATE,
                    Map.of("id", 9), null, Map.of("id", 9), "610", 610, 9L, 1_000_000L, 1_000_500L, null, null);
            in.pipeInput(order.recordKey(), EventJson.write(order));

            List<InvalidationEvent> published = read(d.createOutputTopic("lethe.invalidations", new StringDeserializer(),
                    new ByteArrayDeserializer()));
            assertEquals(Set.of("product", "category", "price"), published.stream().map(InvalidationEvent::namespace)
                    .collect(Collectors.toSet()), "orders is off the public topic");
            InvalidationEvent price = published.stream().filter(e -> e.target().equals("price:2")).findFirst().orElseThrow();
            assertEquals(Action.DELETE, price.action(), "subscribers get the invalidation, not the row");
            assertEquals(null, price.payload());
            assertEquals("2", price.version(), "at the upsert's version");

            Map<String, InvalidationEvent> usEast = read(
                    d.createOutputTopic(privacy.topics().invalidations("us-east"), new StringDeserializer(),
                            new ByteArrayDeserializer()))
                    .stream().collect(Collectors.toMap(InvalidationEvent::target, e -> e));
            assertEquals(Set.of("product:2", "product:slug:cup", "search:products:*", "category:1:products", "price:2", "order:9"),
                    usEast.keySet(), "a region still receives every namespace it subscribes to");
            assertEquals(Action.UPSERT, usEast.get("price:2").action(), "regions keep the payload");
            assertEquals("{\"price\":11}", usEast.get("price:2").payload());
            Map<String, InvalidationEvent> tokyo = read(
                    d.createOutputTopic(privacy.topics().invalidations("ap-tokyo"), new StringDeserializer(),
                            new ByteArrayDeserializer()))
                    .stream().collect(Collectors.toMap(InvalidationEvent::target, e -> e));
            assertEquals(Set.of("price:2", "order:9"), tokyo.keySet());
            assertEquals(Action.UPSERT, tokyo.get("price:2").action());
        }
    }

    @Test
    void aChangedTemplateColumnInvalidatesTheOldAndTheNewKey() {
        send(change(Op.UPDATE, 700, row(3, "old-slug", 4, 10, 1), row(3, "new-slug", 5, 10, 2)));
        Set<String> targets = targets(read(all));
        assertTrue(targets.containsAll(Set.of("product:slug:old-slug", "product:slug:new-slug",
                "category:4:products", "category:5:products")), targets.toString());
    }

    @Test
    void anUnchangedTemplateColumnGivesOneKey() {
        send(change(Op.UPDATE, 710, row(3, "same", 4, 10, 1), row(3, "same", 4, 12, 2)));
        assertEquals(1, read(all).stream().filter(e -> e.target().startsWith("product:slug:")).count());
    }

    @Test
    void aDeleteInvalidatesTheKeysOfTheOldRowAndNeverUpserts() {
        send(change(Op.DELETE, 800, row(4, "gone", 2, 10, 6), null));
        List<InvalidationEvent> out = read(all);
        assertEquals(Set.of("product:4", "product:slug:gone", "search:products:*", "category:2:products", "price:4"), targets(out));
        InvalidationEvent price = out.stream().filter(e -> e.target().equals("price:4")).findFirst().orElseThrow();
        assertEquals(Action.DELETE, price.action());
        assertEquals("7", price.version(), "one above the version column of the old row (see the test below)");
    }

    @Test
    void aDeleteInAColumnVersionedNamespaceFencesAboveEveryVersionTheDeletedRowHad() {
        // A slow reader loaded the row at version 6 just before the DELETE committed; its fill at 6 must be
        // refused, and fill.lua refuses a known version only when it is below the fence: the delete fences 6 + 1.
        send(change(Op.DELETE, 810, row(40, "gone", 2, 10, 6), null));
        InvalidationEvent price = read(all).stream().filter(e -> e.target().equals("price:40")).findFirst().orElseThrow();
        assertEquals(Action.DELETE, price.action());
        assertTrue(Versions.compare(price.version(), "6") > 0,
                "a DELETE must fence above the deleted row's own version 6, or a slow reader's fill at 6 serves the deleted row; was "
                        + price.version());
        assertEquals("7", price.version());

        Map<String, Object> last = row(41, "gone", 2, 10, 0);
        last.put("version", InvalidationMapper.MAX_VERSION);
        send(change(Op.DELETE, 820, last, null));
        assertEquals(InvalidationMapper.MAX_VERSION, read(all).stream().filter(e -> e.target().equals("price:41")).findFirst()
                .orElseThrow().version(), "2^64 - 1 stays 2^64 - 1: no fill can carry more");
        assertTrue(dlq.isEmpty(), "by design, not a problem");
    }

    @Test
    void anUpdateWhoseVersionColumnDidNotRiseFencesAboveItAndNeverUpserts() {
        // a bulk UPDATE that skips @Version (or a trigger) changes the row and leaves version 4: a reader that
        // loaded the old row fills at 4, which a fence at 4 accepts, and an upsert at 4 was refused by the
        // entry at 4 and kept the old payload
        send(change(Op.UPDATE, 1100, row(42, "x", 1, 10, 4), row(42, "x", 1, 99, 4)));
        InvalidationEvent price = read(all).stream().filter(e -> e.target().equals("price:42")).findFirst().orElseThrow();
        assertEquals(Action.DELETE, price.action(), "the version does not order this change against the cached one");
        assertEquals("5", price.version(), "one above the version both images carry");

        send(change(Op.UPDATE, 1110, row(43, "x", 1, 10, 9), row(43, "x", 1, 11, 3)));
        InvalidationEvent lower = read(all).stream().filter(e -> e.target().equals("price:43")).findFirst().orElseThrow();
        assertEquals(Action.DELETE, lower.action());
        assertEquals("10", lower.version(), "a version that went down fences above the old one");
    }

    @Test
    void truncateBecomesNamespaceWidePatterns() {
        ChangeEvent truncate = new ChangeEvent(ChangeEvent.SCHEMA_ID, "900:public.products", PRODUCTS, Op.TRUNCATE,
                null, null, null, "900", 900, 12L, 1, 2, null, null);
        send(truncate);
        List<InvalidationEvent> out = read(all);
        assertTrue(out.stream().allMatch(e -> e.scope() == Scope.NAMESPACE && e.action() == Action.DELETE));
        Map<String, String> versions = out.stream().collect(Collectors.toMap(InvalidationEvent::pattern, InvalidationEvent::version));
        assertEquals(Map.of("product:*", "900", "search:products:*", "900", "category:*:products", "900",
                "price:*", InvalidationMapper.MAX_VERSION), versions, "column-versioned namespaces delete everything");
    }

    @Test
    void resetConcernsOnlyItsNamespace() {
        send(new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.resetId(950, "orders"), new SourceTable("shop", "public", "orders"),
                Op.RESET, null, null, null, "950", 950, null, 1, 2, "orders", null));
        List<InvalidationEvent> out = read(all);
        assertEquals(1, out.size());
        assertEquals("order:*", out.get(0).pattern());
        assertEquals(Op.RESET, out.get(0).op());
        assertEquals(Set.of("order:*"), targets(read(regions.get("ap-tokyo"))));
        assertTrue(read(regions.get("eu-west")).isEmpty());
    }

    /**
     * A capture on another configuration (a rollout) names in its resets only the namespaces it
     * knows of the table: streams resets every namespace of that table it knows. A capture on the
     * same configuration, or of a version before the header, is taken at its word.
     */
    @Test
    void aResetOfACaptureOnAnotherConfigurationResetsEveryNamespaceOfItsTable() {
        ChangeEvent reset = new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.resetId(960, "product"), PRODUCTS, Op.RESET, null, null,
                null, "960", 960, null, 1, 2, "product", null);
        java.util.function.Consumer<String> send = captures -> {
            org.apache.kafka.common.header.Headers h = new org.apache.kafka.common.header.internals.RecordHeaders();
            if (captures != null) {
                h.add(io.lethe.schemas.Watermark.CAPTURES, captures.getBytes(StandardCharsets.UTF_8));
            }
            changes.pipeInput(new TestRecord<>(reset.recordKey(), EventJson.write(reset), h, (Long) null));
        };
        send.accept(config().captures());
        assertEquals(Set.of("product"), read(all).stream().map(InvalidationEvent::namespace).collect(Collectors.toSet()));
        send.accept(null);
        assertEquals(Set.of("product"), read(all).stream().map(InvalidationEvent::namespace).collect(Collectors.toSet()));
        // a capture whose file has product only over public.products
        String older = YAML.replace("  category:\n    table: public.products\n    keys: [\"category:{category_id}:products\"]\n", "");
        send.accept(ConfigLoader.parse("old.yml", older, name -> null).captures());
        List<InvalidationEvent> out = read(all);
        assertEquals(Set.of("product", "category", "price"), out.stream().map(InvalidationEvent::namespace).collect(Collectors.toSet()),
                out.toString());
        assertTrue(out.stream().allMatch(e -> e.scope() == Scope.NAMESPACE && e.op() == Op.RESET), out.toString());
        assertEquals(1.0, widenedCount("category", "capture-configuration"));
    }

    @Test
    void anUpsertWhosePayloadColumnWasNotSentBecomesADelete() {
        Map<String, Object> after = row(5, "x", 1, 0, 9);
        after.put("price", ChangeEvent.UNAVAILABLE_VALUE);
        send(change(Op.UPDATE, 1000, row(5, "x", 1, 10, 8), after));
        InvalidationEvent price = read(all).stream().filter(e -> e.target().equals("price:5")).findFirst().orElseThrow();
        assertEquals(Action.DELETE, price.action());
    }

    @Test
    void malformedBytesGoToTheDlqWithReasonAndCoordinates() {
        byte[] garbage = "{not json".getBytes(StandardCharsets.UTF_8);
        changes.pipeInput("public.products:1", garbage);
        TestRecord<String, byte[]> dead = dlq.readRecord();
        assertEquals("public.products:1", dead.key());
        assertEquals(new String(garbage, StandardCharsets.UTF_8), new String(dead.value(), StandardCharsets.UTF_8), "original bytes");
        Map<String, String> h = headers(dead);
        assertEquals("malformed", h.get(Headers.DLQ_REASON));
        assertEquals("streams", h.get(Headers.DLQ_STAGE));
        assertEquals("lethe.changes", h.get(Headers.DLQ_SOURCE_TOPIC));
        assertEquals("0", h.get(Headers.DLQ_SOURCE_PARTITION));
        assertEquals("0", h.get(Headers.DLQ_SOURCE_OFFSET));
        assertTrue(h.get(Headers.DLQ_ERROR).contains("offset"), h.get(Headers.DLQ_ERROR));
        assertTrue(h.keySet().containsAll(Headers.DLQ_SET));
        List<InvalidationEvent> out = read(all);
        assertEquals(Set.of("product", "category", "price"), out.stream().map(InvalidationEvent::namespace).collect(Collectors.toSet()),
                "the key names public.products: every namespace of that table is invalidated wholesale instead");
        assertTrue(out.stream().allMatch(e -> e.scope() == Scope.NAMESPACE && e.op() == Op.RESET), out.toString());
        assertEquals(1.0, registry.get(StreamsMetrics.DLQ).tag("reason", "malformed").counter().count());
        assertEquals(1.0, widenedCount("product", "malformed"));
    }

    @Test
    void malformedBytesWhoseKeyNamesNoConfiguredTableWidenNothing() {
        changes.pipeInput("public.unknown:1", "{not json".getBytes(StandardCharsets.UTF_8));
        assertEquals("malformed", headers(dlq.readRecord()).get(Headers.DLQ_REASON));
        assertTrue(all.isEmpty());
    }

    @Test
    void anUnknownTableGoesToTheDlq() {
        SourceTable other = new SourceTable("shop", "public", "unknown");
        send(new ChangeEvent(ChangeEvent.SCHEMA_ID, "1:public.unknown", other, Op.CREATE, Map.of("id", 1), null,
                Map.of("id", 1), "1", 1, 1L, 1, 2, null, null));
        assertEquals("unknown-table", headers(dlq.readRecord()).get(Headers.DLQ_REASON));
        assertTrue(all.isEmpty());
    }

    /** The namespace-scoped glob events of {@code events}, by glob. */
    private static Map<String, InvalidationEvent> widened(List<InvalidationEvent> events) {
        return events.stream().filter(e -> e.scope() == Scope.NAMESPACE)
                .collect(Collectors.toMap(InvalidationEvent::pattern, e -> e));
    }

    private double widenedCount(String namespace, String reason) {
        var counter = registry.find(StreamsMetrics.WIDENED).tag("namespace", namespace).tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aMissingTemplateColumnWidensToTheTemplatesGlobAndDeadLettersTheChange() {
        Map<String, Object> before = row(6, "s", 1, 10, 1);
        Map<String, Object> after = row(6, "s", 1, 10, 1);
        after.remove("slug");
        send(change(Op.UPDATE, 1100, before, after));
        Map<String, String> h = headers(dlq.readRecord());
        assertEquals("missing-column", h.get(Headers.DLQ_REASON));
        assertTrue(h.get(Headers.DLQ_ERROR).contains("slug"));
        List<InvalidationEvent> out = read(all);
        assertTrue(targets(out).contains("product:6"), "the keys that could be built are still invalidated");
        assertEquals(Set.of("product:slug:*"), widened(out).keySet(), "the key that could not be built: its whole template");
        assertEquals("1100", widened(out).get("product:slug:*").version());
        assertEquals(1.0, widenedCount("product", "missing-column"));
    }

    @Test
    void anUpdateWithoutTheOldImageWidensEveryTemplateThatReadsOtherColumns() {
        // REPLICA IDENTITY changed to DEFAULT after start-up: no before image, so the old slug is unknown
        send(change(Op.UPDATE, 1150, null, row(6, "new", 2, 10, 1)));
        assertEquals("missing-old-image", headers(dlq.readRecord()).get(Headers.DLQ_REASON));
        List<InvalidationEvent> out = read(all);
        assertEquals(Set.of("product:slug:*", "category:*:products"), widened(out).keySet());
        assertTrue(targets(out).containsAll(Set.of("product:6", "product:slug:new", "category:2:products", "price:6")),
                "the new keys are invalidated exactly as well");
        assertEquals(1.0, widenedCount("product", "missing-old-image"));
        assertEquals(1.0, widenedCount("category", "missing-old-image"));
    }

    @Test
    void aDeleteWhoseOldImageLacksATemplateColumnWidens() {
        Map<String, Object> before = new LinkedHashMap<>(Map.of("id", 12));
        send(change(Op.DELETE, 1160, before, null));
        assertEquals("missing-old-image", headers(dlq.readRecord()).get(Headers.DLQ_REASON));
        List<InvalidationEvent> out = read(all);
        assertTrue(targets(out).containsAll(Set.of("product:12", "price:12")));
        assertEquals(Set.of("product:slug:*", "category:*:products"), widened(out).keySet());
    }

    @Test
    void aDeleteUnderReplicaIdentityDefaultWidensEveryTemplateOfColumnsOutsideTheKey() {
        // REPLICA IDENTITY DEFAULT: PostgreSQL sends only the key of a deleted row; Debezium's old image still has
        // every column, NULL. A NULL outside the key is unknown, not the row's value: the old slug and group are unknown.
        Map<String, Object> before = new LinkedHashMap<>();
        before.put("id", 15);
        before.put("slug", null);
        before.put("category_id", null);
        before.put("price", null);
        before.put("version", null);
        send(change(Op.DELETE, 1165, before, null));
        List<InvalidationEvent> out = read(all);
        assertEquals(Set.of("product:slug:*", "category:*:products"), widened(out).keySet(),
                "a DELETE whose old image holds NULL for template columns outside the key must widen to their templates' globs; "
                        + "it invalidated only " + targets(out));
        assertTrue(targets(out).containsAll(Set.of("product:15", "price:15")), "the keys of the primary key, exactly");
        assertEquals(InvalidationMapper.MAX_VERSION, out.stream().filter(e -> e.target().equals("price:15")).findFirst()
                .orElseThrow().version(), "the version column is unknown as well");
        Map<String, String> h = headers(dlq.readRecord());
        assertEquals("missing-old-image", h.get(Headers.DLQ_REASON));
        assertTrue(h.get(Headers.DLQ_ERROR).contains("NULL"), h.get(Headers.DLQ_ERROR));
        assertEquals(1.0, widenedCount("product", "missing-old-image"));
        assertEquals(1.0, widenedCount("category", "missing-old-image"));
    }

    @Test
    void aToastPlaceholderInEveryImageWidensInsteadOfRenderingThePlaceholder() {
        Map<String, Object> before = row(13, "s", 1, 10, 1);
        before.put("slug", ChangeEvent.UNAVAILABLE_VALUE);
        Map<String, Object> after = row(13, "s", 1, 11, 2);
        after.put("slug", ChangeEvent.UNAVAILABLE_VALUE);
        send(change(Op.UPDATE, 1170, before, after));
        assertEquals("unavailable-value", headers(dlq.readRecord()).get(Headers.DLQ_REASON));
        List<InvalidationEvent> out = read(all);
        assertFalse(targets(out).stream().anyMatch(t -> t.contains(ChangeEvent.UNAVAILABLE_VALUE)), targets(out).toString());
        assertEquals(Set.of("product:slug:*"), widened(out).keySet());
    }

    @Test
    void aToastPlaceholderInTheNewImageIsTakenFromTheOldImage() {
        Map<String, Object> after = row(14, "s", 1, 11, 2);
        after.put("slug", ChangeEvent.UNAVAILABLE_VALUE);
        send(change(Op.UPDATE, 1180, row(14, "kept", 1, 10, 1), after));
        assertTrue(dlq.isEmpty());
        List<InvalidationEvent> out = read(all);
        assertTrue(targets(out).contains("product:slug:kept"));
        assertTrue(widened(out).isEmpty());
    }

    @Test
    void keysRenderFromTheColumnsPostgresTextNotFromTheirEncoding() {
        // capture's text of slug (a bpchar in the database, say) differs from the image's encoding
        Map<String, Object> before = row(15, "old   ", 1, 10, 1);
        Map<String, Object> after = row(15, "new   ", 2, 11, 2);
        ChangeEvent e = change(Op.UPDATE, 1190, before, after).withText(new io.lethe.schemas.ColumnText(Map.of("id", "15"),
                Map.of("id", "15", "slug", "old", "category_id", "1"), Map.of("id", "15", "slug", "new", "category_id", "2")));
        send(e);
        assertTrue(dlq.isEmpty());
        Set<String> targets = targets(read(all));
        assertTrue(targets.containsAll(Set.of("product:slug:old", "product:slug:new", "category:1:products", "category:2:products")),
                targets.toString());
        assertFalse(targets.stream().anyMatch(t -> t.endsWith(" ")), targets.toString());
    }

    @Test
    void aValueCaptureCouldNotRenderWidensToItsTemplatesGlob() {
        ChangeEvent e = change(Op.CREATE, 1195, null, row(16, "s", 1, 10, 1)).withText(new io.lethe.schemas.ColumnText(
                Map.of("id", "16"), null, Map.of("id", "16", "slug", ChangeEvent.UNRENDERABLE_VALUE, "category_id", "1")));
        send(e);
        assertEquals("unrenderable-value", headers(dlq.readRecord()).get(Headers.DLQ_REASON));
        List<InvalidationEvent> out = read(all);
        assertFalse(targets(out).stream().anyMatch(t -> t.contains(ChangeEvent.UNRENDERABLE_VALUE)), targets(out).toString());
        assertEquals(Set.of("product:slug:*"), widened(out).keySet());
        assertEquals(1.0, widenedCount("product", "unrenderable-value"));
    }

    @Test
    void aKeyLongerThanTheLimitWidensToItsTemplatesGlob() {
        send(change(Op.CREATE, 1200, null, row(7, "s".repeat(100), 1, 10, 1)));
        Map<String, String> h = headers(dlq.readRecord());
        assertEquals("key-too-long", h.get(Headers.DLQ_REASON));
        List<InvalidationEvent> out = read(all);
        assertFalse(targets(out).stream().anyMatch(t -> t.startsWith("product:slug:s")));
        assertEquals(Set.of("product:slug:*"), widened(out).keySet());
        assertEquals(1.0, widenedCount("product", "key-too-long"));
    }

    /**
     * Regions refuse an upsert above 2^63 - 1 (version-out-of-range: a forged one would outlive
     * every later change), so streams never sends one: a row whose version column holds more is
     * deleted at its version instead.
     */
    @Test
    void aVersionAboveTheUpsertCeilingDeletesInsteadOfUpserting() {
        Map<String, Object> after = row(9, "w", 1, 10, 1);
        after.put("version", io.lethe.schemas.Versions.next(io.lethe.schemas.Versions.MAX_UPSERT));
        send(change(Op.UPDATE, 1400, null, after));
        InvalidationEvent price = read(all).stream().filter(e -> e.target().equals("price:9")).findFirst().orElseThrow();
        assertEquals(Action.DELETE, price.action());
        assertEquals("9223372036854775808", price.version());
        after.put("version", io.lethe.schemas.Versions.MAX_UPSERT);
        send(change(Op.UPDATE, 1500, null, after));
        InvalidationEvent at = read(all).stream().filter(e -> e.target().equals("price:9")).findFirst().orElseThrow();
        assertEquals(Action.UPSERT, at.action(), "2^63 - 1 itself is upserted");
    }

    /**
     * Issue 34, abuse: a row value holding the separator must not render a key another template
     * renders. With a text id, "{id}" = "1:x" rendered price:1:x from price:{id} in key format 1,
     * the key price:{id}:x gives row 1 of namespace extra. Key format 2 escapes the value
     * (price:1%3Ax): no other template's key, so the row's own key is upserted and extra's key is
     * untouched. Keys another template could still render (templates whose literals overlap, such
     * as a{x} and ab{y}) are invalidated, never upserted ({@code ambiguous}).
     */
    @Test
    void aValueHoldingTheSeparatorRendersItsOwnKeyNotAnotherTemplates() {
        driver.close();
        LetheConfig both = ConfigLoader.parse("topology-test.yml", YAML + """
                  extra:
                    table: public.extras
                    keys: ["price:{id}:x"]
                """, name -> null);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        driver = new TopologyTestDriver(InvalidationTopology.build(both, new StreamsMetrics(registry), CLOCK), p);
        changes = driver.createInputTopic("lethe.changes", new StringSerializer(), new ByteArraySerializer());
        all = driver.createOutputTopic("lethe.invalidations", new StringDeserializer(), new ByteArrayDeserializer());
        Map<String, Object> forged = row(1, "a", 1, 10, 2);
        forged.put("id", "1:x");
        send(change(Op.UPDATE, 1600, null, forged));
        List<InvalidationEvent> events = read(all);
        assertTrue(events.stream().noneMatch(e -> "price:1:x".equals(e.target())), "extra's key of row 1 was touched: " + events);
        InvalidationEvent own = events.stream().filter(e -> e.target().equals("price:1%3Ax")).findFirst().orElseThrow();
        assertEquals(Action.UPSERT, own.action(), "price:1%3Ax is no other template's key");
        send(change(Op.UPDATE, 1700, null, row(1, "a", 1, 10, 3)));
        InvalidationEvent plain = read(all).stream().filter(e -> e.target().equals("price:1")).findFirst().orElseThrow();
        assertEquals(Action.UPSERT, plain.action(), "price:1 is no other template's key");
    }

    /**
     * Issue 34, in-range forged upserts: with streams.watermark-key, every invalidation and upsert
     * record streams writes carries a signature over its key and value that verifies with that key
     * (and not with another, nor over another value), on the region topics and on the public topic,
     * whose payload-stripped copy is signed as it is sent.
     */
    @Test
    void everyInvalidationRecordIsSignedWithTheWatermarkKey() {
        driver.close();
        String key = "a-watermark-key-of-32-characters";
        LetheConfig signed = ConfigLoader.parse("topology-test.yml", YAML.replace("streams: { max-key-bytes: 64 }",
                "kafka: { bootstrap-servers: \"127.0.0.1:9092\", public-payloads: false }\nstreams: { max-key-bytes: 64, watermark-key: "
                        + key + " }")
                .replace("kafka: { bootstrap-servers: \"127.0.0.1:9092\" }\n", ""), name -> null);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        driver = new TopologyTestDriver(InvalidationTopology.build(signed, new StreamsMetrics(registry), CLOCK), p);
        changes = driver.createInputTopic("lethe.changes", new StringSerializer(), new ByteArraySerializer());
        List<TestOutputTopic<String, byte[]>> topics = new ArrayList<>();
        topics.add(driver.createOutputTopic(signed.topics().invalidations(), new StringDeserializer(), new ByteArrayDeserializer()));
        for (String r : List.of("us-east", "eu-west", "ap-tokyo")) {
            topics.add(driver.createOutputTopic(signed.topics().invalidations(r), new StringDeserializer(), new ByteArrayDeserializer()));
        }
        io.lethe.schemas.RecordSignature right = new io.lethe.schemas.RecordSignature(
                key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        sendSigned(change(Op.UPDATE, 1800, row(1, "a", 1, 10, 2), row(1, "b", 1, 11, 3)), right);
        io.lethe.schemas.RecordSignature wrong = new io.lethe.schemas.RecordSignature(
                "another-key-of-some-length".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        int upserts = 0;
        int records = 0;
        for (TestOutputTopic<String, byte[]> topic : topics) {
            for (var r : topic.readRecordsToList()) {
                records++;
                upserts += EventJson.readInvalidation(r.value()).action() == Action.UPSERT ? 1 : 0;
                assertTrue(right.verifies(r.headers(), r.key(), r.value()), "signed: " + r.key() + " " + r.headers());
                assertFalse(wrong.verifies(r.headers(), r.key(), r.value()), "another key does not verify it");
                byte[] changed = r.value().clone();
                changed[changed.length / 2] ^= 1;
                assertFalse(right.verifies(r.headers(), r.key(), changed), "the signature covers the value");
                assertFalse(right.verifies(r.headers(), r.key() + "x", r.value()), "and the record key");
            }
        }
        assertTrue(records >= 6 && upserts >= 1, records + " records, " + upserts + " upserts: the price upsert reached its regions");
    }

    /** A change as capture publishes it with streams.watermark-key: signed over its record key and value. */
    private void sendSigned(ChangeEvent e, io.lethe.schemas.RecordSignature signature) {
        byte[] value = EventJson.write(e);
        changes.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(e.recordKey(), value,
                signature.addTo(new org.apache.kafka.common.header.internals.RecordHeaders(), e.recordKey(), value), (Long) null));
    }

    /**
     * Issue 34, the changes topic: with streams.watermark-key, a change whose signature (capture's)
     * is missing or made with another key was not written by capture. It can at most cause deletes:
     * its invalidations go out (refusing them could leave an entry a real change needed removed), its
     * upserts as the delete at their version, never with the payload it chose, and it is
     * dead-lettered as untrusted-record. A signed one upserts as before.
     */
    @Test
    void anUnsignedChangeCausesAtMostDeletesAndIsDeadLetteredAsUntrusted() {
        driver.close();
        String key = "a-watermark-key-of-32-characters";
        LetheConfig signed = ConfigLoader.parse("topology-test.yml", YAML.replace("streams: { max-key-bytes: 64 }",
                "streams: { max-key-bytes: 64, watermark-key: " + key + " }"), name -> null);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        driver = new TopologyTestDriver(InvalidationTopology.build(signed, new StreamsMetrics(registry), CLOCK), p);
        changes = driver.createInputTopic("lethe.changes", new StringSerializer(), new ByteArraySerializer());
        TestOutputTopic<String, byte[]> tokyo = driver.createOutputTopic(signed.topics().invalidations("ap-tokyo"),
                new StringDeserializer(),
                new ByteArrayDeserializer());
        TestOutputTopic<String, byte[]> dlq = driver.createOutputTopic(signed.topics().dlq(), new StringDeserializer(),
                new ByteArrayDeserializer());
        io.lethe.schemas.RecordSignature right = new io.lethe.schemas.RecordSignature(
                key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        io.lethe.schemas.RecordSignature wrong = new io.lethe.schemas.RecordSignature(
                "another-key-of-some-length".getBytes(java.nio.charset.StandardCharsets.UTF_8));

        // forged: a price of 1 for row 1, unsigned, then signed with another key
        send(change(Op.UPDATE, 1900, row(1, "a", 1, 10, 2), row(1, "a", 1, 1, 3)));
        sendSigned(change(Op.UPDATE, 1910, row(1, "a", 1, 10, 2), row(1, "a", 1, 1, 4)), wrong);
        List<InvalidationEvent> forged = read(tokyo);
        assertFalse(forged.isEmpty(), "its invalidations still go out: at most misses");
        for (InvalidationEvent e : forged) {
            assertEquals(Action.DELETE, e.action(), "never an upsert with the payload it chose: " + e);
            assertEquals(null, e.payload());
        }
        assertTrue(forged.stream().anyMatch(e -> e.target().equals("price:1") && e.version().equals("3")),
                "the upsert of price:1 as the delete at its version: " + forged);
        var letters = dlq.readRecordsToList();
        assertEquals(2, letters.size(), "each dead-lettered for audit");
        for (var letter : letters) {
            assertEquals("untrusted-record", new String(letter.headers().lastHeader(io.lethe.schemas.Headers.DLQ_REASON).value(),
                    java.nio.charset.StandardCharsets.UTF_8));
        }

        // capture's, signed with the key: upserts as before, nothing dead-lettered
        sendSigned(change(Op.UPDATE, 1920, row(1, "a", 1, 10, 4), row(1, "a", 1, 12, 5)), right);
        List<InvalidationEvent> real = read(tokyo);
        assertTrue(real.stream().anyMatch(e -> e.target().equals("price:1") && e.action() == Action.UPSERT
                && "{\"price\":12}".equals(e.payload())), "a signed change upserts: " + real);
        assertTrue(dlq.readRecordsToList().isEmpty(), "a signed change is not dead-lettered");
    }

    /**
     * A rotation of the key (docs/security.md): streams on {@code watermark-key: NEW,
     * previous-watermark-key: OLD} while a capture not yet restarted still signs with OLD. Its
     * changes upsert as a NEW-signed one does and its watermarks are forwarded, signed with NEW
     * only; a change or watermark signed with a third key is still not believed.
     */
    @Test
    void duringARotationChangesAndWatermarksSignedWithThePreviousKeyAreBelievedAndForwardedWithTheNewOne() {
        driver.close();
        String oldKey = "the-old-watermark-key-of-32-chars";
        String newKey = "the-new-watermark-key-of-32-chars";
        LetheConfig rotating = ConfigLoader.parse("topology-test.yml", YAML.replace("streams: { max-key-bytes: 64 }",
                "streams: { max-key-bytes: 64, watermark-key: " + newKey + ", previous-watermark-key: " + oldKey + " }"), name -> null);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        driver = new TopologyTestDriver(InvalidationTopology.build(rotating, new StreamsMetrics(registry), CLOCK), p);
        changes = driver.createInputTopic("lethe.changes", new StringSerializer(), new ByteArraySerializer());
        TestOutputTopic<String, byte[]> tokyo = driver.createOutputTopic(rotating.topics().invalidations("ap-tokyo"),
                new StringDeserializer(), new ByteArrayDeserializer());
        TestOutputTopic<String, byte[]> dlq = driver.createOutputTopic(rotating.topics().dlq(), new StringDeserializer(),
                new ByteArrayDeserializer());
        io.lethe.schemas.RecordSignature byOld = new io.lethe.schemas.RecordSignature(oldKey.getBytes(StandardCharsets.UTF_8));
        io.lethe.schemas.RecordSignature byNew = new io.lethe.schemas.RecordSignature(newKey.getBytes(StandardCharsets.UTF_8));
        io.lethe.schemas.RecordSignature byThird = new io.lethe.schemas.RecordSignature(
                "a-third-key-nobody-was-given-000".getBytes(StandardCharsets.UTF_8));

        sendSigned(change(Op.UPDATE, 2000, row(1, "a", 1, 10, 2), row(1, "a", 1, 12, 3)), byOld);
        List<TestRecord<String, byte[]>> fromOld = tokyo.readRecordsToList();
        assertTrue(fromOld.stream().anyMatch(r -> EventJson.readInvalidation(r.value()).action() == Action.UPSERT
                && r.key().equals("price:1")), "a change signed with the previous key upserts: " + fromOld);
        for (TestRecord<String, byte[]> r : fromOld) {
            assertTrue(byNew.verifies(r.headers(), r.key(), r.value()), "what streams writes is signed with the current key");
            assertFalse(byOld.verifies(r.headers(), r.key(), r.value()), "never with the previous one");
            assertEquals(java.util.Optional.of(io.lethe.schemas.SigningKeys.keyId(newKey.getBytes(StandardCharsets.UTF_8))),
                    io.lethe.schemas.SigningKeys.signedWith(r.headers()), "and says so by the current key's id: " + r.headers());
        }
        assertTrue(dlq.readRecordsToList().isEmpty(), "a change signed with the previous key is not dead-lettered");

        sendSigned(change(Op.UPDATE, 2010, row(1, "a", 1, 12, 3), row(1, "a", 1, 1, 4)), byThird);
        assertTrue(read(tokyo).stream().allMatch(e -> e.action() == Action.DELETE), "a third key's change: deletes only");
        var refusedChange = dlq.readRecord();
        assertEquals("untrusted-record", new String(refusedChange.headers().lastHeader(Headers.DLQ_REASON).value(),
                StandardCharsets.UTF_8));
        String accepted = idOf(newKey) + " (streams.watermark-key) and " + idOf(oldKey) + " (streams.previous-watermark-key)";
        String changeError = new String(refusedChange.headers().lastHeader(Headers.DLQ_ERROR).value(), StandardCharsets.UTF_8);
        assertTrue(changeError.contains("signed with key " + idOf("a-third-key-nobody-was-given-000") + ", this stage accepts " + accepted),
                changeError);

        changes.pipeInput(new TestRecord<>(io.lethe.schemas.Watermark.KEY, new byte[0],
                new io.lethe.schemas.Watermark(1_000, 2_000, -1, "h").writeTo(new org.apache.kafka.common.header.internals.RecordHeaders(),
                        oldKey.getBytes(StandardCharsets.UTF_8)),
                (Long) null));
        List<TestRecord<String, byte[]>> watermarks = tokyo.readRecordsToList();
        assertFalse(watermarks.isEmpty(), "a watermark signed with the previous key is forwarded");
        for (TestRecord<String, byte[]> r : watermarks) {
            io.lethe.schemas.Watermark w = io.lethe.schemas.Watermark.read(r.headers()).orElseThrow();
            assertTrue(w.verifies(r.headers(), newKey.getBytes(StandardCharsets.UTF_8)), "forwarded signed with the current key");
            assertEquals(java.util.Optional.of(idOf(newKey)), io.lethe.schemas.SigningKeys.signedWith(r.headers()),
                    "with the current key's id, not capture's");
        }
        changes.pipeInput(new TestRecord<>(io.lethe.schemas.Watermark.KEY, new byte[0],
                new io.lethe.schemas.Watermark(1_000, 3_000, -1, "h").writeTo(new org.apache.kafka.common.header.internals.RecordHeaders(),
                        "a-third-key-nobody-was-given-000".getBytes(StandardCharsets.UTF_8)),
                (Long) null));
        assertTrue(tokyo.readRecordsToList().isEmpty(), "a third key's watermark is not forwarded");
        var refusedWatermark = dlq.readRecord();
        assertEquals("untrusted-watermark", new String(refusedWatermark.headers().lastHeader(Headers.DLQ_REASON).value(),
                StandardCharsets.UTF_8));
        String watermarkError = new String(refusedWatermark.headers().lastHeader(Headers.DLQ_ERROR).value(), StandardCharsets.UTF_8);
        assertTrue(watermarkError.contains("signed with key " + idOf("a-third-key-nobody-was-given-000") + ", this stage accepts "
                + accepted), watermarkError);
    }

    private static String idOf(String key) {
        return io.lethe.schemas.SigningKeys.keyId(key.getBytes(StandardCharsets.UTF_8));
    }

    /** With streams.watermark-key, every watermark forwarded to a region carries a signature that verifies with that key. */
    @Test
    void forwardedWatermarksAreSignedWithTheWatermarkKey() {
        driver.close();
        String key = "a-watermark-key-of-32-characters";
        LetheConfig signed = ConfigLoader.parse("topology-test.yml", YAML.replace("streams: { max-key-bytes: 64 }",
                "streams: { max-key-bytes: 64, watermark-key: " + key + " }"), name -> null);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        driver = new TopologyTestDriver(InvalidationTopology.build(signed, new StreamsMetrics(registry), CLOCK), p);
        TestInputTopic<String, byte[]> in = driver.createInputTopic(signed.topics().changes(),
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer());
        TestOutputTopic<String, byte[]> east = driver.createOutputTopic(signed.topics().invalidations("eu-west"),
                new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
        byte[] keyBytes = key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        // one written by whoever can write the changes topic, without capture's signature: not vouched for
        in.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(io.lethe.schemas.Watermark.KEY, new byte[0],
                new io.lethe.schemas.Watermark(1_000, 1L << 62, -1, "h")
                        .writeTo(new org.apache.kafka.common.header.internals.RecordHeaders()),
                (Long) null));
        assertTrue(east.readRecordsToList().isEmpty(), "an unsigned watermark is not forwarded");
        TestOutputTopic<String, byte[]> dlq = driver.createOutputTopic(signed.topics().dlq(),
                new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
        assertEquals("untrusted-watermark", new String(dlq.readRecord().headers().lastHeader(io.lethe.schemas.Headers.DLQ_REASON).value(),
                java.nio.charset.StandardCharsets.UTF_8));
        // capture's, signed with the same key
        in.pipeInput(new org.apache.kafka.streams.test.TestRecord<>(io.lethe.schemas.Watermark.KEY, new byte[0],
                new io.lethe.schemas.Watermark(1_000, 2_000, -1, "h").writeTo(new org.apache.kafka.common.header.internals.RecordHeaders(),
                        keyBytes),
                (Long) null));
        var records = east.readRecordsToList();
        assertTrue(!records.isEmpty(), "the watermark reaches eu-west");
        for (var r : records) {
            io.lethe.schemas.Watermark w = io.lethe.schemas.Watermark.read(r.headers()).orElseThrow();
            assertTrue(w.verifies(r.headers(), key.getBytes(java.nio.charset.StandardCharsets.UTF_8)), "signed: " + r.headers());
            assertTrue(!w.verifies(r.headers(), "another-key-of-some-length".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
    }

    /**
     * Capture shards (issue 31): a heartbeat of one shard says nothing of another's tables, so each
     * shard's watermark is forwarded with its shard and its changes partition (each region numbers
     * the channel, changes partition x shard count + the shard's index, under its own shard set),
     * and one of no configured shard is not forwarded at all.
     */
    @Test
    void eachCaptureShardsWatermarksGoOnTheirOwnChannelAndAnUnknownShardsNowhere() {
        LetheConfig sharded = sharded();
        TestInputTopic<String, byte[]> in = driver.createInputTopic(sharded.topics().changes(), new StringSerializer(),
                new ByteArraySerializer());
        TestOutputTopic<String, byte[]> east = driver.createOutputTopic(sharded.topics().invalidations("us-east"), new StringDeserializer(),
                new ByteArrayDeserializer());
        for (String shard : List.of("sales", "catalog")) {
            in.pipeInput(new TestRecord<>(io.lethe.schemas.Watermark.KEY, new byte[0],
                    new io.lethe.schemas.Watermark(1_000, 2_000, -1, "h", shard)
                            .writeTo(new org.apache.kafka.common.header.internals.RecordHeaders()),
                    (Long) null));
        }
        List<io.lethe.schemas.Watermark> forwarded = east.readRecordsToList().stream()
                .map(r -> io.lethe.schemas.Watermark.read(r.headers()).orElseThrow()).toList();
        // the test driver's changes partition is 0: both go out as changes partition 0, each with its shard
        assertEquals(List.of("sales", "catalog"), forwarded.stream().map(io.lethe.schemas.Watermark::shard).distinct().toList(),
                "" + forwarded);
        assertTrue(forwarded.stream().allMatch(w -> w.source() == 0), "" + forwarded);
        for (String unknown : java.util.Arrays.asList("gone", null)) {
            in.pipeInput(new TestRecord<>(io.lethe.schemas.Watermark.KEY, new byte[0],
                    new io.lethe.schemas.Watermark(1_000, 3_000, -1, "h", unknown)
                            .writeTo(new org.apache.kafka.common.header.internals.RecordHeaders()),
                    (Long) null));
            assertTrue(east.readRecordsToList().isEmpty(),
                    "a watermark of shard " + unknown + ", which is not configured, is not forwarded");
        }
    }

    /**
     * A capture still on a file without one of streams' tables (a rollout, a capture never
     * restarted) publishes none of that table's changes: its watermarks are held, and counted; a
     * shard's capture is judged by the shard's tables; a capture of a version before the header is
     * forwarded as before.
     */
    @Test
    void aWatermarkOfACaptureThatCapturesOtherTablesIsHeld() {
        LetheConfig sharded = sharded();
        TestInputTopic<String, byte[]> in = driver.createInputTopic(sharded.topics().changes(), new StringSerializer(),
                new ByteArraySerializer());
        TestOutputTopic<String, byte[]> east = driver.createOutputTopic(sharded.topics().invalidations("us-east"), new StringDeserializer(),
                new ByteArrayDeserializer());
        java.util.function.BiConsumer<String, String> watermark = (shard, captures) -> {
            org.apache.kafka.common.header.Headers h = new io.lethe.schemas.Watermark(1_000, 2_000, -1, "h", shard)
                    .writeTo(new org.apache.kafka.common.header.internals.RecordHeaders());
            if (captures != null) {
                h.add(io.lethe.schemas.Watermark.CAPTURES, captures.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            in.pipeInput(new TestRecord<>(io.lethe.schemas.Watermark.KEY, new byte[0], h, (Long) null));
        };
        watermark.accept("sales", sharded.forShard("sales").captures());
        assertEquals(1, east.readRecordsToList().size(), "the sales capture captures what streams expects of it");
        watermark.accept("sales", sharded.forShard("catalog").captures());
        watermark.accept("catalog", sharded.captures());
        assertTrue(east.readRecordsToList().isEmpty(), "captures of other tables than streams expects of their shard vouch for nothing");
        assertEquals(2.0, registry.counter(StreamsMetrics.WATERMARKS_HELD, "reason", "capture-tables").count());
        watermark.accept("catalog", null);
        assertEquals(1, east.readRecordsToList().size(), "a capture of a version before the header: forwarded as before");
    }

    /** The test's configuration with two capture shards (sales: orders, catalog: products), the driver running it. */
    private LetheConfig sharded() {
        driver.close();
        LetheConfig sharded = ConfigLoader.parse(
                "topology-test.yml", YAML.replace("source: { jdbc-url: \"jdbc:postgresql://127.0.0.1:5432/shop\", user: lethe }",
                        "source:\n  jdbc-url: \"jdbc:postgresql://127.0.0.1:5432/shop\"\n  user: lethe\n  shards:\n"
                                + "    sales: { slot: lethe_sales, publication: lethe_sales, tables: [public.orders] }\n"
                                + "    catalog: { slot: lethe_catalog, publication: lethe_catalog, tables: [public.products] }"),
                name -> null);
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "topology-test");
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "dummy:9092");
        driver = new TopologyTestDriver(InvalidationTopology.build(sharded, new StreamsMetrics(registry), CLOCK), p);
        return sharded;
    }

    @Test
    void aVersionThatCannotBeReadDeletesTheKeysWhateverTheirVersion() {
        for (Object bad : java.util.Arrays.asList("2026-11-22", null, "-1", "18446744073709551616")) {
            Map<String, Object> after = row(8, "v", 1, 10, 1);
            after.put("version", bad);
            send(change(Op.UPDATE, 1300, row(8, "v", 1, 10, 1), after));
            assertEquals("bad-version", headers(dlq.readRecord()).get(Headers.DLQ_REASON), "version " + bad);
            InvalidationEvent price = read(all).stream().filter(e -> e.target().equals("price:8")).findFirst()
                    .orElseThrow(() -> new AssertionError("price:8 must still be invalidated for version " + bad));
            assertEquals(Action.DELETE, price.action(), "never an upsert without the row's version");
            assertEquals(InvalidationMapper.MAX_VERSION, price.version());
        }
        assertEquals(4.0, widenedCount("price", "bad-version"));
    }

    @Test
    void everyPublicRecordValidatesAgainstTheSchemaFile() throws IOException {
        Schema schema;
        try (InputStream in = InvalidationEvent.class.getResourceAsStream(EventSchemas.INVALIDATION_V1)) {
            schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(in);
        }
        send(change(Op.CREATE, 1400, null, row(9, "a", 1, 10, 1)));
        send(change(Op.UPDATE, 1401, row(9, "a", 1, 10, 1), row(9, "b", 2, 11, 2)));
        send(change(Op.DELETE, 1402, row(9, "b", 2, 11, 2), null));
        send(new ChangeEvent(ChangeEvent.SCHEMA_ID, "1403:public.products", PRODUCTS, Op.TRUNCATE, null, null, null, "1403", 1403, 1L, 1, 2,
                null, null));
        ObjectMapper json = new ObjectMapper();
        List<TestRecord<String, byte[]>> records = all.readRecordsToList();
        assertTrue(records.size() > 10);
        for (TestRecord<String, byte[]> r : records) {
            var errors = schema.validate(json.readTree(r.value()));
            assertTrue(errors.isEmpty(), () -> errors + " in " + new String(r.value(), StandardCharsets.UTF_8));
            assertEquals(InvalidationEvent.SCHEMA_ID, headers(r).get(Headers.SCHEMA));
        }
    }

    @Test
    void topologyDescriptionMatchesTheGoldenFile() throws IOException {
        String actual = topology(new SimpleMeterRegistry()).describe().toString();
        Path golden = Path.of("src/test/resources/topology.txt");
        if (Boolean.getBoolean("lethe.golden.update")) {
            Files.writeString(golden, actual);
        }
        assertEquals(Files.readString(golden), actual,
                "the topology changed: review it, then regenerate with -Dlethe.golden.update=true");
    }

    private static Map<String, String> headers(TestRecord<String, byte[]> record) {
        Map<String, String> out = new HashMap<>();
        for (Header h : record.headers()) {
            out.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
        }
        return out;
    }
}
