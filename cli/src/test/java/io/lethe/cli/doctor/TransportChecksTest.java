package io.lethe.cli.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.source.CheckResult;
import io.lethe.capture.source.CheckResult.Status;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@code lethe doctor}'s transport checks (issue 34, "TLS by default"): every hop that is not
 * encrypted and verified is reported loudly, with the fix, unless it stays on this host (the
 * demo and the embedded stack), which passes with a note. Pure: no server is contacted.
 */
class TransportChecksTest {
    private static final String NAMESPACES = """
            namespaces:
              product: { table: public.products, keys: ["product:{id}"] }
            """;

    private static Map<String, CheckResult> run(String source, String kafka, String regions) {
        LetheConfig config = ConfigLoader.parse("lethe.yml",
                "source: " + source + "\nkafka: " + kafka + "\nregions:\n" + regions + NAMESPACES,
                name -> null);
        List<CheckResult> results = TransportChecks.run(config);
        return results.stream().collect(Collectors.toMap(CheckResult::check, r -> r));
    }

    @Test
    void watermarksWithoutASignatureKeyAreReportedWhenKafkaIsShared() {
        String source = "{ jdbc-url: \"jdbc:postgresql://db.internal:5432/shop\", user: lethe }";
        String region = "  us-east: { redis: \"redis://127.0.0.1:6379\" }\n";
        CheckResult remote = TransportChecks.watermarkKey(ConfigLoader.parse("lethe.yml", "source: " + source
                + "\nkafka: { bootstrap-servers: \"kafka.internal:9092\" }\nregions:\n" + region + NAMESPACES, name -> null));
        assertEquals(Status.WARN, remote.status(), remote.toString());
        assertTrue(remote.fix().contains("streams.watermark-key"), remote.fix());
        assertEquals(Status.PASS, TransportChecks.watermarkKey(ConfigLoader.parse("lethe.yml", "source: " + source
                + "\nkafka: { bootstrap-servers: \"localhost:9092\" }\nregions:\n" + region + NAMESPACES, name -> null)).status());
        LetheConfig signed = ConfigLoader.parse("lethe.yml",
                "source: " + source + "\nkafka: { bootstrap-servers: \"kafka.internal:9092\" }\n"
                        + "streams: { watermark-key: a-watermark-key-of-32-characters }\nregions:\n" + region + NAMESPACES,
                name -> null);
        assertEquals(Status.PASS, TransportChecks.watermarkKey(signed).status());
        LetheConfig rotating = ConfigLoader.parse("lethe.yml",
                "source: " + source + "\nkafka: { bootstrap-servers: \"kafka.internal:9092\" }\n"
                        + "streams: { watermark-key: a-watermark-key-of-32-characters, previous-watermark-key: the-key-before-it-0000 }"
                        + "\nregions:\n" + region + NAMESPACES,
                name -> null);
        CheckResult rotation = TransportChecks.watermarkKey(rotating);
        // a forgotten step 3 keeps the previous key valid forever: doctor --strict must not pass it
        assertEquals(Status.WARN, rotation.status(), rotation.toString());
        assertTrue(rotation.toString().contains("drop previous-watermark-key") && !rotation.toString().contains("the-key-before-it"),
                "a rotation under way is said, without the key: " + rotation);
        assertTrue(rotation.toString().contains("applied watermark") && rotation.toString().contains("mirrored"),
                "when step 3 is safe, mirrored regions included: " + rotation);
    }

    /**
     * The rotation check by key id: the file names its keys' ids and the two steps it can be; with
     * the newest watermarks it says which signers still sign with the previous key, and fails when
     * one signs with a key the file does not accept.
     */
    @Test
    void theRotationCheckNamesTheKeyIdsAndTheSignersStillOnThePreviousKey() {
        String current = "a-watermark-key-of-32-characters";
        String previous = "the-key-before-it-0000";
        LetheConfig rotating = ConfigLoader.parse("lethe.yml",
                "source: { jdbc-url: \"jdbc:postgresql://127.0.0.1:5432/shop\", user: lethe }\nkafka: { bootstrap-servers: "
                        + "\"127.0.0.1:9092\" }\nstreams: { watermark-key: " + current + ", previous-watermark-key: " + previous + " }"
                        + "\nregions:\n  us-east: { redis: \"redis://127.0.0.1:6379\" }\n" + NAMESPACES,
                name -> null);
        String currentId = io.lethe.schemas.SigningKeys.keyId(current.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String previousId = io.lethe.schemas.SigningKeys.keyId(previous.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        CheckResult fileOnly = RotationCheck.of(rotating, null);
        assertEquals(Status.WARN, fileOnly.status());
        assertTrue(fileOnly.message().contains("This file signs with key " + currentId + " and accepts " + currentId + " and " + previousId
                + ": step 1's file if " + currentId + " is the key being retired, step 2's if it is the new one"), fileOnly.message());

        CheckResult midStep2 = RotationCheck.of(rotating, Map.of("capture on lethe.changes", java.util.Set.of(previousId),
                "streams on lethe.invalidations.us-east", java.util.Set.of(currentId)));
        assertEquals(Status.WARN, midStep2.status(), midStep2.toString());
        assertTrue(midStep2.message().endsWith("The newest watermarks: streams on lethe.invalidations.us-east signed with this file's "
                + "current key " + currentId + "; capture on lethe.changes still with its previous key " + previousId
                + " (step 2 has not reached them, or, if this is step 1's file, they already run step 2's)"), midStep2.message());

        CheckResult stray = RotationCheck.of(rotating, Map.of("capture on lethe.changes", java.util.Set.of("0badc0de")));
        assertEquals(Status.FAIL, stray.status(), stray.toString());
        assertTrue(stray.message().contains("signed with a key this file does not accept: capture on lethe.changes (key 0badc0de)"),
                stray.message());
        CheckResult unsigned = RotationCheck.of(rotating, Map.of("capture on lethe.changes",
                java.util.Set.of(io.lethe.cli.lag.SigningReport.UNVERIFIED)));
        assertEquals(Status.FAIL, unsigned.status(), "a signer every verifier on this file refuses: " + unsigned);
        assertTrue(unsigned.message().contains("capture on lethe.changes (no key id, does not verify)"), unsigned.message());
        assertTrue(!(fileOnly + " " + midStep2 + " " + stray).contains(previous) && !(fileOnly + " " + midStep2).contains(current),
                "ids only, never a key");
    }

    @Test
    void plaintextOnLoopbackPassesWithANote() {
        Map<String, CheckResult> r = run("{ jdbc-url: \"jdbc:postgresql://127.0.0.1:5432/shop\", user: lethe }",
                "{ bootstrap-servers: \"localhost:9092\" }", "  us-east: { redis: \"redis://127.0.0.1:6379\" }\n");
        for (String check : List.of("kafka transport", "postgres transport source", "redis transport us-east")) {
            assertEquals(Status.PASS, r.get(check).status(), r.toString());
            assertTrue(r.get(check).message().contains("loopback"), r.get(check).message());
        }
    }

    @Test
    void plaintextHopsToOtherHostsAreReportedWithTheFix() {
        Map<String, CheckResult> r = run("{ jdbc-url: \"jdbc:postgresql://db.internal:5432/shop\", user: lethe }",
                "{ bootstrap-servers: \"127.0.0.1:9092,kafka-1.internal:9092\", properties: { security.protocol: SASL_PLAINTEXT } }",
                "  us-east: { redis: \"redis://cache.internal:6379\", replica: \"jdbc:postgresql://replica.internal/shop?sslmode=require\" }\n");
        CheckResult kafka = r.get("kafka transport");
        assertEquals(Status.WARN, kafka.status());
        assertTrue(kafka.message().contains("SASL_PLAINTEXT") && kafka.message().contains("kafka-1.internal:9092")
                && kafka.message().contains("credentials"), kafka.message());
        assertTrue(kafka.fix().contains("security.protocol: SASL_SSL"), kafka.fix());
        CheckResult pg = r.get("postgres transport source");
        assertEquals(Status.WARN, pg.status());
        assertTrue(pg.message().contains("sslmode prefer (pgjdbc's default)") && pg.message().contains("db.internal"), pg.message());
        assertTrue(pg.fix().contains("sslmode=verify-full"), pg.fix());
        CheckResult replica = r.get("postgres transport us-east replica");
        assertEquals(Status.WARN, replica.status());
        assertTrue(replica.message().contains("sslmode require"), replica.message());
        CheckResult redis = r.get("redis transport us-east");
        assertEquals(Status.WARN, redis.status());
        assertTrue(redis.message().contains("redis://") && redis.message().contains("cache.internal"), redis.message());
        assertTrue(redis.fix().contains("rediss://"), redis.fix());
    }

    @Test
    void verifiedTlsPassesAndCertificateChecksTurnedOffAreReported() {
        Map<String, CheckResult> ok = run(
                "{ jdbc-url: \"jdbc:postgresql://db.internal:5432/shop?sslmode=verify-full&sslrootcert=/ca.pem\", user: lethe }",
                "{ bootstrap-servers: \"kafka-1.internal:9093\", properties: { security.protocol: SASL_SSL } }",
                "  us-east: { redis: \"rediss://cache.internal:6380\" }\n");
        assertEquals(List.of(Status.PASS), ok.values().stream().map(CheckResult::status).distinct().toList(), ok.toString());

        Map<String, CheckResult> off = run(
                "{ jdbc-url: \"jdbc:postgresql://db.internal:5432/shop?ssl=true&sslfactory=org.postgresql.ssl.NonValidatingFactory\", user: lethe }",
                "{ bootstrap-servers: \"kafka-1.internal:9093\", properties: { security.protocol: SSL, ssl.endpoint.identification.algorithm: \"\" } }",
                "  us-east: { redis: \"rediss://cache.internal:6380?verifyPeer=NONE\" }\n");
        assertEquals(Status.WARN, off.get("kafka transport").status());
        assertTrue(off.get("kafka transport").message().contains("host name verification is off"), off.get("kafka transport").message());
        assertEquals(Status.WARN, off.get("postgres transport source").status());
        assertTrue(off.get("postgres transport source").message().contains("NonValidatingFactory"),
                off.get("postgres transport source").message());
        assertEquals(Status.WARN, off.get("redis transport us-east").status());
        assertTrue(off.get("redis transport us-east").message().contains("verifyPeer NONE"), off.get("redis transport us-east").message());
    }

    @Test
    void loopbackIsOnlyTheLoopback() {
        assertTrue(TransportChecks.isLoopback("127.0.0.1") && TransportChecks.isLoopback("127.1.2.3")
                && TransportChecks.isLoopback("localhost")
                && TransportChecks.isLoopback("::1") && TransportChecks.isLoopback("[::1]"));
        assertTrue(!TransportChecks.isLoopback("10.0.0.1") && !TransportChecks.isLoopback("localhost.evil.example")
                && !TransportChecks.isLoopback("127.0.0.1.nip.io"));
    }
}
