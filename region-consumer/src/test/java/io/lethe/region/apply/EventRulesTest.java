package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.RecordSignature;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.Watermark;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** Each rule of {@link EventRules}, refusing by its {@link DlqReason}, and what the pipeline itself sends passing all of them. */
class EventRulesTest {
    private static final LetheConfig CONFIG = ConfigLoader.parse("lethe.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe, slot: lethe, publication: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            regions:
              eu-west: { redis: "redis://127.0.0.1:6380" }
            namespaces:
              products: { table: public.products, keys: ["product:{id}", "category:{cat}:products"], version: "column:version" }
              prices: { table: public.prices, keys: ["price:{id}"], patterns: ["product:*:price"], mode: upsert, payload-columns: [price] }
              orders: { table: public.orders, keys: ["order:{id}"], allow-namespace-wide: true }
            """, Map.<String, String>of()::get);
    private static final long LEAD = 1L << 30;
    private static final EventRules RULES = new EventRules(CONFIG.namespaces(), "lethe.yml", LEAD);

    private static InvalidationEvent event(String namespace, Scope scope, String key, String pattern, Action action, String version,
            long lsn, Op op) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "e", namespace, scope, key, pattern, action,
                action == Action.UPSERT ? "{\"price\":3}" : null, version, lsn, 1L, 1, 1, 1, null, op, null, null);
    }

    private static InvalidationEvent key(String namespace, String key, Action action, String version, long lsn) {
        return event(namespace, Scope.ROW, key, null, action, version, lsn, Op.UPDATE);
    }

    private static InvalidationEvent pattern(String namespace, Scope scope, String glob, String version, long lsn, Op op) {
        return event(namespace, scope, null, glob, Action.DELETE, version, lsn, op);
    }

    private static Optional<DlqReason> reason(InvalidationEvent e) {
        return RULES.refusal(e, 1_000).map(EventRules.Refusal::reason);
    }

    @Test
    void whatThePipelineSendsIsAdmitted() {
        assertEquals(Optional.empty(), reason(key("products", "product:1", Action.DELETE, "7", 900)));
        assertEquals(Optional.empty(),
                reason(event("products", Scope.DERIVED, "category:4:products", null, Action.DELETE, "0", 900, Op.UPDATE)));
        assertEquals(Optional.empty(), reason(key("products", "product:1", Action.DELETE, Versions.MAX, 900)),
                "fail-closed deletes at 2^64 - 1");
        assertEquals(Optional.empty(), reason(key("prices", "price:1", Action.UPSERT, "950", 950)));
        assertEquals(Optional.empty(), reason(pattern("prices", Scope.PATTERN, "product:*:price", "950", 950, Op.UPDATE)),
                "a configured pattern, even one over another namespace's keys");
        assertEquals(Optional.empty(), reason(pattern("products", Scope.NAMESPACE, "product:*", Versions.MAX, 950, Op.TRUNCATE)));
        assertEquals(Optional.empty(), reason(pattern("products", Scope.NAMESPACE, "category:*:products", Versions.MAX, 950, Op.RESET)));
        assertEquals(Optional.empty(), reason(pattern("products", Scope.PATTERN, "product:4*", Versions.MAX, 950, Op.MANUAL)),
                "a manual pattern within the namespace");
        assertEquals(Optional.empty(), reason(pattern("orders", Scope.NAMESPACE, "order:*", "950", 950, Op.MANUAL)),
                "lethe invalidate --force of a namespace");
    }

    @Test
    void aKeyOfAnotherNamespaceOrNoneIsForeign() {
        assertEquals(Optional.of(DlqReason.FOREIGN_KEY), reason(key("products", "price:1", Action.DELETE, "7", 900)));
        assertEquals(Optional.of(DlqReason.FOREIGN_KEY), reason(key("products", "session:abc", Action.DELETE, "7", 900)));
        assertEquals(Optional.of(DlqReason.FOREIGN_KEY), reason(event("prices", Scope.ROW, "product:1:price", null, Action.UPSERT,
                "950", 950, Op.UPDATE)), "an upsert into a key only a pattern matches");
    }

    @Test
    void lethesOwnKeysAreReserved() {
        assertEquals(Optional.of(DlqReason.RESERVED_KEY), reason(key("products", "lethe:fence:product:1", Action.DELETE, "7", 900)));
        assertEquals(Optional.of(DlqReason.RESERVED_KEY), reason(key("products", "lethe:applied:eu-west", Action.DELETE, "7", 900)));
    }

    @Test
    void upsertsOnlyWhereConfigured() {
        assertEquals(Optional.of(DlqReason.UPSERT_NOT_CONFIGURED), reason(key("products", "product:1", Action.UPSERT, "7", 900)));
    }

    @Test
    void versionsOutOfRange() {
        // lsn namespace: the version is the LSN, at most apply.max-lsn-lead-mib beyond the last watermark
        assertEquals(Optional.of(DlqReason.VERSION_OUT_OF_RANGE), reason(key("prices", "price:1", Action.UPSERT, "99999999999", 950)));
        assertEquals(Optional.of(DlqReason.VERSION_OUT_OF_RANGE), reason(key("prices", "price:1", Action.UPSERT,
                Long.toString(1_000 + LEAD + 1), 1_000 + LEAD + 1)));
        assertEquals(Optional.empty(), reason(key("prices", "price:1", Action.UPSERT, Long.toString(1_000 + LEAD), 1_000 + LEAD)));
        assertEquals(Optional.empty(), RULES.refusal(key("prices", "price:1", Action.UPSERT, Long.toString(1L << 62), 1L << 62), -1),
                "before the first watermark there is no reference to bound the LSN by");
        assertEquals(Optional.of(DlqReason.VERSION_OUT_OF_RANGE), reason(pattern("orders", Scope.NAMESPACE, "order:*", Versions.MAX, 950,
                Op.MANUAL)));
        assertEquals(Optional.empty(), reason(pattern("orders", Scope.NAMESPACE, "order:*", Versions.MAX, 950, Op.RESET)),
                "capture's reset after a change of source history deletes whatever is there at the highest version");
        // column namespace: an upsert at most 2^63 - 1 (a delete up to 2^64 - 1, its fence expires)
        LetheConfig column = ConfigLoader.parse("lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe, slot: lethe, publication: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9092" }
                regions:
                  eu-west: { redis: "redis://127.0.0.1:6380" }
                namespaces:
                  docs: { table: public.docs, keys: ["doc:{id}"], version: "column:ver", mode: upsert, payload-columns: [body] }
                """, Map.<String, String>of()::get);
        EventRules rules = new EventRules(column.namespaces(), "lethe.yml", LEAD);
        assertEquals(Optional.empty(), rules.refusal(key("docs", "doc:1", Action.UPSERT, Versions.MAX_UPSERT, 5), 1));
        assertEquals(Optional.of(DlqReason.VERSION_OUT_OF_RANGE), rules.refusal(key("docs", "doc:1", Action.UPSERT,
                Versions.next(Versions.MAX_UPSERT), 5), 1).map(EventRules.Refusal::reason));
        assertEquals(Optional.empty(), rules.refusal(key("docs", "doc:1", Action.DELETE, Versions.MAX, 5), 1));
    }

    @Test
    void patternsTooLongOrWithTooManyStarsAreRefusedBeforeTheyAreJudged() {
        String longGlob = "order:" + "?".repeat(EventRules.MAX_PATTERN_CHARS);
        String stars = "order:" + "*a".repeat(EventRules.MAX_PATTERN_STARS + 1) + "b";
        for (String glob : new String[] {longGlob, stars}) {
            long t0 = System.nanoTime();
            assertEquals(Optional.of(DlqReason.FOREIGN_PATTERN), reason(pattern("orders", Scope.PATTERN, glob, "950", 950, Op.MANUAL)));
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(1), "refused without being judged");
        }
        assertEquals(Optional.empty(), reason(pattern("orders", Scope.PATTERN, "order:1*", "950", 950, Op.MANUAL)));
    }

    @Test
    void positionsBeyondTheSourcesReachAreRefusedInEveryNamespace() {
        // a column-versioned delete whose commitLsn would hold the replica gate for ever, or whose lsn would raise the
        // wide watermark past every later upsert
        InvalidationEvent farCommit = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "e", "products", Scope.ROW, "product:5", null,
                Action.DELETE, null, "1", 1, 1L, 1, 1, 1, null, Op.DELETE, null, null, 1L << 62);
        assertEquals(Optional.of(DlqReason.VERSION_OUT_OF_RANGE), reason(farCommit));
        assertEquals(Optional.of(DlqReason.VERSION_OUT_OF_RANGE), reason(pattern("products", Scope.NAMESPACE, "product:*", "7", 1L << 62,
                Op.RESET)));
        assertEquals(Optional.empty(), reason(key("products", "product:1", Action.DELETE, "7", 1_000 + LEAD)));
    }

    @Test
    void globsAreJudgedByWhatTheyCouldMatch() {
        for (String glob : new String[] {"*:*", "[a-z]*", "p*", "product*", "*1", "*product:*", "produc?:*", "[^x]*"}) {
            assertEquals(Optional.of(DlqReason.FOREIGN_PATTERN), reason(pattern("products", Scope.PATTERN, glob, Versions.MAX, 950,
                    Op.MANUAL)), glob);
            assertEquals(Optional.of(DlqReason.FOREIGN_PATTERN), reason(pattern("products", Scope.NAMESPACE, glob, Versions.MAX, 950,
                    Op.TRUNCATE)), glob + ", namespace-scoped");
        }
        for (String glob : new String[] {"*", "?*", "**"}) {
            assertEquals(Optional.of(DlqReason.MATCH_ALL_PATTERN), reason(pattern("products", Scope.PATTERN, glob, Versions.MAX, 950,
                    Op.MANUAL)), glob);
        }
        for (String glob : new String[] {"product:**", "product:?*", "product:[^]*"}) {
            assertEquals(Optional.of(DlqReason.NAMESPACE_WIDE_PATTERN), reason(pattern("products", Scope.PATTERN, glob, Versions.MAX, 950,
                    Op.MANUAL)), glob + " covers product:{id} without being its glob");
        }
    }

    @Test
    void watermarksNeedTheirHeadersAndWithAKeyTheirSignature() {
        byte[] key = "0123456789abcdef0123".getBytes(StandardCharsets.UTF_8);
        SigningKeys keys = SigningKeys.of(key);
        Watermark w = new Watermark(1_000, 2_000, 1, "h");
        assertEquals(Optional.empty(), EventRules.watermarkRefusal(w.writeTo(new RecordHeaders(), key), keys));
        assertEquals(Optional.empty(), EventRules.watermarkRefusal(w.writeTo(new RecordHeaders()), null), "no key: taken on trust");
        assertEquals(Optional.of(DlqReason.UNTRUSTED_WATERMARK), EventRules.watermarkRefusal(w.writeTo(new RecordHeaders()), keys)
                .map(EventRules.Refusal::reason), "unsigned");
        RecordHeaders forged = new RecordHeaders();
        new Watermark(1_000, 1L << 62, 1, "h").writeTo(forged);
        forged.add(Watermark.SIGNATURE, w.signature(key).getBytes(StandardCharsets.UTF_8));
        assertEquals(Optional.of(DlqReason.UNTRUSTED_WATERMARK), EventRules.watermarkRefusal(forged, keys).map(EventRules.Refusal::reason),
                "another watermark's signature");
        RecordHeaders rerouted = (RecordHeaders) w.writeTo(new RecordHeaders(), key, "routes-of-one-topic");
        rerouted.remove(Watermark.ROUTES);
        rerouted.add(Watermark.ROUTES, "routes-of-another".getBytes(StandardCharsets.UTF_8));
        assertEquals(Optional.of(DlqReason.UNTRUSTED_WATERMARK),
                EventRules.watermarkRefusal(rerouted, keys).map(EventRules.Refusal::reason),
                "the routes are signed: a copy claiming another topic's routes does not verify");
        assertEquals(Optional.empty(), EventRules.watermarkRefusal(w.writeTo(new RecordHeaders(), key, "routes-of-one-topic"), keys));
        byte[] previous = "a-previous-key-of-some-length".getBytes(StandardCharsets.UTF_8);
        byte[] third = "a-third-key-of-some-length".getBytes(StandardCharsets.UTF_8);
        String message = EventRules.watermarkRefusal(w.writeTo(new RecordHeaders(), third, "r"), SigningKeys.of(key, previous))
                .orElseThrow().message();
        assertTrue(message.contains("signed with key " + SigningKeys.keyId(third) + ", this stage accepts " + SigningKeys.keyId(key)
                + " (streams.watermark-key) and " + SigningKeys.keyId(previous) + " (streams.previous-watermark-key)"), message);
        assertTrue(EventRules.watermarkRefusal(new Watermark(1_000, 2_000, -1).writeTo(new RecordHeaders()), null).isPresent(),
                "a region topic's watermark names its changes partition");
    }

    /**
     * Issue 34, in-range forged upserts: with streams.watermark-key, a record the rules admit is
     * refused as untrusted-record when its signature is missing, made with another key, or made
     * over another value; without the key it is taken on trust.
     */
    @Test
    void anInvalidationRecordMustCarryAValidSignatureWhenTheKeyIsSet() {
        byte[] key = "a-watermark-key-of-32-characters".getBytes(StandardCharsets.UTF_8);
        RecordSignature signature = new RecordSignature(key);
        SigningKeys keys = SigningKeys.of(key);
        byte[] value = "{\"key\":\"doc:1\",\"payload\":\"{\\\"body\\\":\\\"real\\\"}\"}".getBytes(StandardCharsets.UTF_8);
        byte[] forged = "{\"key\":\"doc:1\",\"payload\":\"{\\\"body\\\":\\\"forged\\\"}\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals(Optional.empty(),
                EventRules.signatureRefusal(signature.addTo(new RecordHeaders(), "doc:1", value), "doc:1", value, keys));
        assertEquals(Optional.empty(), EventRules.signatureRefusal(new RecordHeaders(), "doc:1", value, null), "no key: taken on trust");
        Optional<EventRules.Refusal> missing = EventRules.signatureRefusal(new RecordHeaders(), "doc:1", forged, keys);
        assertEquals(Optional.of(DlqReason.UNTRUSTED_RECORD), missing.map(EventRules.Refusal::reason));
        assertTrue(missing.orElseThrow().message().contains("is missing"), missing.toString());
        // a real record's signature moved onto a forged payload, or one made with another key
        assertEquals(Optional.of(DlqReason.UNTRUSTED_RECORD), EventRules.signatureRefusal(
                signature.addTo(new RecordHeaders(), "doc:1", value), "doc:1", forged, keys).map(EventRules.Refusal::reason));
        RecordSignature other = new RecordSignature("another-key-of-some-length".getBytes(StandardCharsets.UTF_8));
        Optional<EventRules.Refusal> wrong = EventRules.signatureRefusal(other.addTo(new RecordHeaders(), "doc:1", forged), "doc:1", forged,
                keys);
        assertEquals(Optional.of(DlqReason.UNTRUSTED_RECORD), wrong.map(EventRules.Refusal::reason));
        assertTrue(wrong.orElseThrow().message().contains("does not verify"), wrong.toString());
        String otherId = SigningKeys.keyId("another-key-of-some-length".getBytes(StandardCharsets.UTF_8));
        assertTrue(wrong.orElseThrow().message().contains("signed with key " + otherId + ", this stage accepts " + keys.signsWith()
                + " (streams.watermark-key)"), "a stage a rollout missed is told from a forgery by the ids: " + wrong);
        assertEquals(Optional.of(DlqReason.UNTRUSTED_RECORD), EventRules.signatureRefusal(
                signature.addTo(new RecordHeaders(), "doc:1", value), "doc:2", value, keys).map(EventRules.Refusal::reason),
                "the signature covers the record key");
        assertTrue(!signature.toString().contains("a-watermark-key"), "the key is never in toString");
    }
}
