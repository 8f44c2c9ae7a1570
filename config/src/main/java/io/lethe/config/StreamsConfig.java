package io.lethe.config;

import io.lethe.schemas.SigningKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * invalidation-streams settings.
 *
 * @param applicationId        Kafka Streams application id (consumer group of every instance)
 * @param processingGuarantee  at_least_once (default; apply is idempotent) or exactly_once_v2
 * @param commitInterval       how often progress is committed
 * @param linger               producer linger; lower is faster, higher batches more
 * @param maxKeyBytes          longest cache key accepted; longer keys go to the DLQ
 * @param threads              stream threads per instance
 * @param stateDir             Kafka Streams state directory (none is used by the topology; null for the default)
 * @param watermarkKey         the key every stage signs its records and watermarks with and verifies them with
 *                             (HMAC-SHA256); null for unsigned ones, which streams and regions then take on trust
 * @param previousWatermarkKey a key verified as {@code watermarkKey} is and never signed with, while the key is
 *                             rotated (docs/security.md); null outside a rotation
 */
public record StreamsConfig(String applicationId, String processingGuarantee, Duration commitInterval,
        Duration linger, int maxKeyBytes, int threads, String stateDir, Secret watermarkKey, Secret previousWatermarkKey) {

    /** Settings without a watermark key. */
    public StreamsConfig(String applicationId, String processingGuarantee, Duration commitInterval,
            Duration linger, int maxKeyBytes, int threads, String stateDir) {
        this(applicationId, processingGuarantee, commitInterval, linger, maxKeyBytes, threads, stateDir, null, null);
    }

    /** Settings with a watermark key and no previous one. */
    public StreamsConfig(String applicationId, String processingGuarantee, Duration commitInterval,
            Duration linger, int maxKeyBytes, int threads, String stateDir, Secret watermarkKey) {
        this(applicationId, processingGuarantee, commitInterval, linger, maxKeyBytes, threads, stateDir, watermarkKey, null);
    }

    /**
     * The keys to sign with ({@code watermarkKey}) and to verify with (it, or {@code
     * previousWatermarkKey}), or null without a watermark key: what every signer and verifier
     * takes, so none verifies with one key while a rotation is under way.
     */
    public SigningKeys signingKeys() {
        if (watermarkKey == null) {
            return null;
        }
        return SigningKeys.of(watermarkKey.reveal().getBytes(StandardCharsets.UTF_8),
                previousWatermarkKey == null ? null : previousWatermarkKey.reveal().getBytes(StandardCharsets.UTF_8));
    }
}
