package io.lethe.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The keys a Lethe stage signs and verifies with: {@code streams.watermark-key} (the current key,
 * the only one anything is signed with) and, while the key is rotated, {@code
 * streams.previous-watermark-key} (accepted exactly as the current one, never signed with).
 *
 * <p>Why one type for both: rotating the key restarts every stage one by one, so for a while
 * some instances sign with the old key and some with the new one. A verifier that accepted only
 * one of them would refuse the other's records and watermarks: a region dead-letters a real
 * change's upsert as {@code untrusted-record} (the entry keeps its old value) and its LSN ceiling
 * stops moving. Every verifier (streams' changes and watermarks, a region's records and
 * watermarks, {@code lethe lag}, {@code lethe doctor}, {@code lethe dlq replay}) takes the keys
 * through this class, so none can verify with one key only; docs/security.md gives the order of
 * the rollout in which no signer's key is ever refused.
 *
 * <p>The hot path stays as it was: a record or watermark is verified with the current key first
 * and with the previous one only when that fails, so outside a rotation (or for every record
 * already signed with the current key) nothing is computed that was not before.
 *
 * <p>Each key has an id ({@link #keyId}) that every signed record and watermark carries ({@link
 * Headers#KEY_ID}) and every stage reports (its metrics and {@code /health}): which rotation step a
 * stage runs, and which key a refused record was signed with, can be read without the key.
 */
public final class SigningKeys {
    private final byte[] current;
    private final byte[] previous;
    private final RecordSignature currentSignature;
    private final RecordSignature previousSignature;
    private final String currentId;
    private final String previousId;

    private SigningKeys(byte[] current, byte[] previous) {
        if (current == null || current.length == 0) {
            throw new IllegalArgumentException("signing keys need a current key");
        }
        if (previous != null && Arrays.equals(current, previous)) {
            throw new IllegalArgumentException("the previous signing key is the current one");
        }
        this.current = current.clone();
        this.previous = previous == null || previous.length == 0 ? null : previous.clone();
        this.currentSignature = new RecordSignature(this.current);
        this.previousSignature = this.previous == null ? null : new RecordSignature(this.previous);
        this.currentId = keyId(this.current);
        this.previousId = this.previous == null ? null : keyId(this.previous);
    }

    /**
     * The id of {@code key}: the first 8 hex digits of HMAC-SHA256 with the key over {@code lethe
     * key id}. Why an HMAC and not a hash of the key: checking a guessed key against it takes the
     * same work as checking it against any record's signature, which anyone reading a topic already
     * has, so it reveals nothing a signed record does not; a plain SHA-256 of the key would be a
     * second, unsalted target shared with every other system that hashes the same secret. 32 bits
     * tell two keys of one deployment apart; they prove nothing (the signature does).
     */
    public static String keyId(byte[] key) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(key, "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal("lethe key id".getBytes(StandardCharsets.UTF_8))).substring(0, 8);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /**
     * The {@link Headers#KEY_ID} a signed record or watermark carries: the id of the key it says it was signed with. The
     * header is not signed (whoever writes a topic writes it), so it goes into messages, dead letters and reports only
     * as eight lower-case hex digits; anything else reads as {@code an invalid key id (<n> bytes)}.
     */
    public static Optional<String> signedWith(org.apache.kafka.common.header.Headers headers) {
        org.apache.kafka.common.header.Header h = headers.lastHeader(Headers.KEY_ID);
        if (h == null || h.value() == null) {
            return Optional.empty();
        }
        String id = new String(h.value(), StandardCharsets.UTF_8);
        return Optional.of(ID.matcher(id).matches() ? id : "an invalid key id (" + h.value().length + " bytes)");
    }

    private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("[0-9a-f]{8}");

    /** The id of the key this stage signs with ({@code streams.watermark-key}). */
    public String signsWith() {
        return currentId;
    }

    /** The ids of the keys this stage accepts: the current key's, then the previous one's during a rotation. */
    public List<String> accepts() {
        return previousId == null ? List.of(currentId) : List.of(currentId, previousId);
    }

    /** The id of {@code streams.previous-watermark-key}, when one is set. */
    public Optional<String> previousId() {
        return Optional.ofNullable(previousId);
    }

    /**
     * For the message of a refused record or watermark: {@code signed with key <id>, this stage
     * accepts <id> (streams.watermark-key) and <id> (streams.previous-watermark-key)}, the first id
     * read from {@code headers} ({@code no key id} when they carry none: unsigned, or signed before
     * ids were written). What an operator needs to tell a stage a rollout missed from a forgery.
     */
    public String refusal(org.apache.kafka.common.header.Headers headers) {
        return "signed with " + signedWith(headers).map(id -> ID.matcher(id).matches() ? "key " + id : id).orElse("no key id")
                + ", this stage accepts " + describe();
    }

    /** {@code <id> (streams.watermark-key)} and, during a rotation, {@code and <id> (streams.previous-watermark-key)}. */
    public String describe() {
        return currentId + " (streams.watermark-key)"
                + (previousId == null ? "" : " and " + previousId + " (streams.previous-watermark-key)");
    }

    /** Signs and verifies with {@code current} only. */
    public static SigningKeys of(byte[] current) {
        return new SigningKeys(current, null);
    }

    /** Signs with {@code current}; verifies with {@code current} or {@code previous} (null or empty for none). */
    public static SigningKeys of(byte[] current, byte[] previous) {
        return new SigningKeys(current, previous);
    }

    /** The key to sign watermarks with ({@link Watermark#writeTo(org.apache.kafka.common.header.Headers, byte[], String)}): the current one. */
    public byte[] signingKey() {
        return current.clone();
    }

    /** The record signer: the current key. Verify with {@link #verifies}, never with this alone. */
    public RecordSignature signer() {
        return currentSignature;
    }

    /** True while a previous key is accepted too (a rotation is under way). */
    public boolean acceptsPrevious() {
        return previous != null;
    }

    /** True when {@code headers} carry this record's signature with the current or the previous key. */
    public boolean verifies(org.apache.kafka.common.header.Headers headers, String recordKey, byte[] value) {
        if (currentSignature.verifies(headers, recordKey, value)) {
            return true;
        }
        return previousSignature != null && headers.lastHeader(Headers.SIGNATURE) != null
                && previousSignature.verifies(headers, recordKey, value);
    }

    /** True when {@code headers} carry {@code watermark}'s signature with the current or the previous key. */
    public boolean verifies(Watermark watermark, org.apache.kafka.common.header.Headers headers) {
        if (watermark.verifies(headers, current)) {
            return true;
        }
        return previous != null && headers.lastHeader(Watermark.SIGNATURE) != null && watermark.verifies(headers, previous);
    }

    @Override
    public String toString() {
        return "SigningKeys[HmacSHA256, signs with " + currentId + ", accepts " + String.join(" and ", accepts()) + ", keys masked]";
    }
}
