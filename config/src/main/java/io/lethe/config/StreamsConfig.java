package io.lethe.config;

import java.time.Duration;

/**
 * invalidation-streams settings.
 *
 * @param applicationId       Kafka Streams application id (consumer group of every instance)
 * @param processingGuarantee at_least_once (default; apply is idempotent) or exactly_once_v2
 * @param commitInterval      how often progress is committed
 * @param linger              producer linger; lower is faster, higher batches more
 * @param maxKeyBytes         longest cache key accepted; longer keys go to the DLQ
 * @param threads             stream threads per instance
 * @param stateDir            Kafka Streams state directory (none is used by the topology; null for the default)
 * @param watermarkKey        the key streams signs the watermarks it forwards with and regions verify them with
 *                            (HMAC-SHA256); null for unsigned watermarks, which regions then take on trust
 */
public record StreamsConfig(String applicationId, String processingGuarantee, Duration commitInterval,
        Duration linger, int maxKeyBytes, int threads, String stateDir, Secret watermarkKey) {

    /** Settings without a watermark key. */
    public StreamsConfig(String applicationId, String processingGuarantee, Duration commitInterval,
            Duration linger, int maxKeyBytes, int threads, String stateDir) {
        this(applicationId, processingGuarantee, commitInterval, linger, maxKeyBytes, threads, stateDir, null);
    }
}
