package io.lethe.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
}
