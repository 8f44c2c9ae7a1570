package io.lethe.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** The keys a verifier accepts during a rotation: the current and the previous one, never a third; it signs with the current. */
class SigningKeysTest {
    private static final byte[] OLD = "the-old-watermark-key-of-32-chars".getBytes(StandardCharsets.UTF_8);
    private static final byte[] NEW = "the-new-watermark-key-of-32-chars".getBytes(StandardCharsets.UTF_8);
    private static final byte[] THIRD = "a-third-key-nobody-was-given-000".getBytes(StandardCharsets.UTF_8);

    @Test
    void recordsSignedWithEitherKeyVerifyAndAThirdKeysDoNot() {
        SigningKeys rotating = SigningKeys.of(NEW, OLD);
        byte[] value = "{\"price\":1}".getBytes(StandardCharsets.UTF_8);
        for (byte[] key : new byte[][] {NEW, OLD}) {
            assertTrue(rotating.verifies(new RecordSignature(key).addTo(new RecordHeaders(), "price:1", value), "price:1", value));
        }
        assertFalse(rotating.verifies(new RecordSignature(THIRD).addTo(new RecordHeaders(), "price:1", value), "price:1", value));
        assertFalse(rotating.verifies(new RecordHeaders(), "price:1", value), "unsigned");
        assertFalse(rotating.verifies(new RecordSignature(OLD).addTo(new RecordHeaders(), "price:1", value), "price:2", value),
                "the previous key's signature covers the record key too");
        assertFalse(SigningKeys.of(NEW).verifies(new RecordSignature(OLD).addTo(new RecordHeaders(), "price:1", value), "price:1", value),
                "outside a rotation the old key is refused");
        assertTrue(new RecordSignature(NEW).verifies(rotating.signer().addTo(new RecordHeaders(), "price:1", value), "price:1", value),
                "signs with the current key");
        assertArrayEquals(NEW, rotating.signingKey());
    }

    @Test
    void watermarksSignedWithEitherKeyVerifyAndAThirdKeysDoNot() {
        SigningKeys rotating = SigningKeys.of(NEW, OLD);
        Watermark w = new Watermark(1_000, 2_000, 0, "h");
        assertTrue(w.verifies(w.writeTo(new RecordHeaders(), OLD, "routes"), rotating));
        assertTrue(w.verifies(w.writeTo(new RecordHeaders(), NEW), rotating));
        assertFalse(w.verifies(w.writeTo(new RecordHeaders(), THIRD), rotating));
        assertFalse(w.verifies(w.writeTo(new RecordHeaders()), rotating), "unsigned");
        assertFalse(w.verifies(w.writeTo(new RecordHeaders(), OLD), SigningKeys.of(NEW)));
    }

    @Test
    void aPreviousKeyEqualToTheCurrentIsRefusedAndNeitherIsShown() {
        assertThrows(IllegalArgumentException.class, () -> SigningKeys.of(NEW, NEW.clone()));
        assertThrows(IllegalArgumentException.class, () -> SigningKeys.of(null, OLD));
        String text = SigningKeys.of(NEW, OLD).toString();
        assertFalse(text.contains("old-watermark") || text.contains("new-watermark"), text);
    }
    @Test
    void aKeyIdIsStableDiffersPerKeyAndIsNoPlainHashOfTheKey() throws Exception {
        String id = SigningKeys.keyId(NEW);
        assertTrue(id.matches("[0-9a-f]{8}"), id);
        assertEquals(id, SigningKeys.keyId(NEW.clone()), "the same key, the same id");
        assertNotEquals(id, SigningKeys.keyId(OLD));
        String sha256 = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(NEW));
        assertFalse(sha256.startsWith(id), "a plain hash of the key would let whoever guesses it check the guess without a signature");
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(NEW, "HmacSHA256"));
        assertEquals(java.util.HexFormat.of().formatHex(mac.doFinal("lethe key id".getBytes(StandardCharsets.UTF_8))).substring(0, 8), id,
                "HMAC-SHA256(key, \"lethe key id\"), its first 8 hex digits: the documented derivation");
        SigningKeys rotating = SigningKeys.of(NEW, OLD);
        assertEquals(id, rotating.signsWith());
        assertEquals(java.util.List.of(id, SigningKeys.keyId(OLD)), rotating.accepts());
        assertEquals(java.util.List.of(id), SigningKeys.of(NEW).accepts());
        assertFalse(rotating.toString().contains(new String(NEW, StandardCharsets.UTF_8)));
        assertTrue(rotating.toString().contains(id), "toString names the ids, never the keys: " + rotating);
    }

    @Test
    void signedRecordsAndWatermarksCarryTheIdOfTheKeyThatSignedThem() {
        byte[] value = "{\"price\":1}".getBytes(StandardCharsets.UTF_8);
        SigningKeys rotating = SigningKeys.of(NEW, OLD);
        org.apache.kafka.common.header.Headers record = rotating.signer().addTo(new RecordHeaders(), "price:1", value);
        assertEquals(java.util.Optional.of(SigningKeys.keyId(NEW)), SigningKeys.signedWith(record));
        rotating.signer().addTo(record, "price:1", value);
        assertEquals(2, record.toArray().length, "signing again replaces the id as it replaces the signature: " + record);
        Watermark w = new Watermark(1_000, 2_000, 0, "h");
        assertEquals(java.util.Optional.of(SigningKeys.keyId(OLD)), SigningKeys.signedWith(w.writeTo(new RecordHeaders(), OLD, "r")));
        assertEquals(java.util.Optional.empty(), SigningKeys.signedWith(w.writeTo(new RecordHeaders(), null, "r")), "unsigned: no id");
    }

    @Test
    void aRefusalNamesTheKeyTheRecordWasSignedWithAndTheKeysThisStageAccepts() {
        byte[] value = "{\"price\":1}".getBytes(StandardCharsets.UTF_8);
        org.apache.kafka.common.header.Headers third = new RecordSignature(THIRD).addTo(new RecordHeaders(), "price:1", value);
        assertEquals("signed with key " + SigningKeys.keyId(THIRD) + ", this stage accepts " + SigningKeys.keyId(NEW)
                + " (streams.watermark-key) and " + SigningKeys.keyId(OLD) + " (streams.previous-watermark-key)",
                SigningKeys.of(NEW, OLD).refusal(third));
        assertEquals("signed with no key id, this stage accepts " + SigningKeys.keyId(NEW) + " (streams.watermark-key)",
                SigningKeys.of(NEW).refusal(new RecordHeaders()));
    }

    /** The id header is not signed: whatever else a topic's writer puts there never reaches a message as it came. */
    @Test
    void anIdThatIsNotEightHexDigitsIsNotRepeated() {
        RecordHeaders forged = new RecordHeaders();
        forged.add(Headers.KEY_ID, "ab\r\nINFO forged line\u001b[2J".getBytes(StandardCharsets.UTF_8)); // 24 bytes
        assertEquals(java.util.Optional.of("an invalid key id (24 bytes)"), SigningKeys.signedWith(forged));
        assertEquals("signed with an invalid key id (24 bytes), this stage accepts " + SigningKeys.keyId(NEW) + " (streams.watermark-key)",
                SigningKeys.of(NEW).refusal(forged));
    }
}
