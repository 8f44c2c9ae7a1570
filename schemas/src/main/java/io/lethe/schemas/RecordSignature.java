package io.lethe.schemas;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.common.header.Header;

/**
 * The signature of an invalidation record (issue 34, "trust no topic"): HMAC-SHA256 with
 * {@code streams.watermark-key} over {@code lethe.record/v1|<record key>|<SHA-256 of the value>},
 * hex, in the {@link Headers#SIGNATURE} header. The value is the whole {@code lethe.invalidation/v1}
 * JSON: namespace, scope, key or pattern, action, version, LSNs and payload, so none of them can be
 * changed without the key. invalidation-streams signs every record it writes to the public and the
 * region topics (the public topic's payload-stripped copy is signed as it is sent), {@code lethe
 * invalidate} its manual ones; a region with the key applies only records whose signature verifies
 * ({@code untrusted-record} otherwise); a subscriber of the public topic given the key may verify
 * too. cdc-capture signs every change it writes to the changes topic the same way (the value is the
 * whole {@code lethe.change/v1} JSON); streams maps a change that does not verify into deletes only.
 *
 * <p>What it proves: whoever wrote the record knew the key. Not when, nor to which topic: a signed
 * record copied back into a topic it was read from verifies again. A region judges an upsert's age
 * by its partition's watermarks instead (its replay floor: an upsert at or below it is applied as a
 * delete); docs/security.md says what that holds and what it does not.
 */
public final class RecordSignature {
    private static final String DOMAIN = "lethe.record/v1|";

    /** Per thread: a MAC initialised with the key (reset by each doFinal) and a SHA-256 digest; both are costly to look up. */
    private final ThreadLocal<Mac> mac;
    /** {@link SigningKeys#keyId} of the key, written next to every signature. */
    private final byte[] keyId;
    private final ThreadLocal<MessageDigest> sha256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    });

    /** A signer and verifier with {@code key} (the bytes of {@code streams.watermark-key}). */
    public RecordSignature(byte[] key) {
        if (key == null || key.length == 0) {
            throw new IllegalArgumentException("a record signature needs a key");
        }
        SecretKeySpec spec = new SecretKeySpec(key, "HmacSHA256");
        this.keyId = SigningKeys.keyId(key).getBytes(StandardCharsets.UTF_8);
        this.mac = ThreadLocal.withInitial(() -> {
            try {
                Mac m = Mac.getInstance("HmacSHA256");
                m.init(spec);
                return m;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is not available", e);
            }
        });
    }

    /** The signature of a record with key {@code recordKey} (null for none) and value {@code value}, hex. */
    public String sign(String recordKey, byte[] value) {
        byte[] digest = sha256.get().digest(value == null ? new byte[0] : value);
        Mac m = mac.get();
        m.update((DOMAIN + (recordKey == null ? "" : recordKey.length() + ":" + recordKey) + "|").getBytes(StandardCharsets.UTF_8));
        m.update(HexFormat.of().formatHex(digest).getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(m.doFinal());
    }

    /**
     * {@code headers} with this record's {@link Headers#SIGNATURE} and the {@link Headers#KEY_ID} of
     * the key that made it (any earlier ones removed).
     */
    public org.apache.kafka.common.header.Headers addTo(org.apache.kafka.common.header.Headers headers, String recordKey, byte[] value) {
        headers.remove(Headers.SIGNATURE);
        headers.remove(Headers.KEY_ID);
        headers.add(Headers.SIGNATURE, sign(recordKey, value).getBytes(StandardCharsets.UTF_8));
        headers.add(Headers.KEY_ID, keyId.clone());
        return headers;
    }

    /** True when {@code headers} carry the signature of this record (compared in constant time). */
    public boolean verifies(org.apache.kafka.common.header.Headers headers, String recordKey, byte[] value) {
        Header given = headers.lastHeader(Headers.SIGNATURE);
        return given != null && given.value() != null
                && MessageDigest.isEqual(sign(recordKey, value).getBytes(StandardCharsets.UTF_8), given.value());
    }

    @Override
    public String toString() {
        return "RecordSignature[HmacSHA256, key masked]";
    }
}
