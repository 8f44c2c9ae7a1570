package io.lethe.schemas;

import java.util.Arrays;

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
 */
public final class SigningKeys {
    private final byte[] current;
    private final byte[] previous;
    private final RecordSignature currentSignature;
    private final RecordSignature previousSignature;

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
        return "SigningKeys[HmacSHA256, " + (previous == null ? "current key" : "current and previous key") + ", masked]";
    }
}
