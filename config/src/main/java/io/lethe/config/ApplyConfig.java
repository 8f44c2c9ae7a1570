package io.lethe.config;

import java.time.Duration;
import java.util.List;

/**
 * region-consumer settings, the same for every region.
 *
 * @param groupPrefix          consumer group of region r is {@code groupPrefix + r}
 * @param maxPollRecords       most invalidations applied per batch
 * @param commitInterval       how often applied offsets are committed (at most; a revocation or a
 *                             stop commits at once); a crash re-applies at most this much, idempotently
 * @param retryBackoffMin      first wait after a Redis failure
 * @param retryBackoffMax      longest wait between retries
 * @param commandTimeout       Redis command timeout
 * @param connections          Redis connections per region consumer used for pipelining
 * @param patternScanCount     SCAN COUNT per step of a pattern invalidation
 * @param patternKeysPerSecond most keys a pattern invalidation deletes per second
 * @param replicaPollInterval  how often the replica gate asks the replica for its replay LSN
 * @param proberSampleEvery    the staleness prober checks 1 in this many invalidations (0 = off)
 * @param proberWindows        delays after commit at which the prober checks
 * @param maxLsnLeadMib        how far (MiB of WAL) an invalidation's LSN may be beyond the region's last
 *                             watermark: beyond it, it is refused to the DLQ ({@code version-out-of-range})
 */
public record ApplyConfig(String groupPrefix, int maxPollRecords, Duration commitInterval, Duration retryBackoffMin,
        Duration retryBackoffMax,
        Duration commandTimeout, int connections, int patternScanCount, int patternKeysPerSecond,
        Duration replicaPollInterval, int proberSampleEvery, List<Duration> proberWindows, int maxLsnLeadMib) {

    public ApplyConfig {
        proberWindows = List.copyOf(proberWindows);
    }

    /** {@link #maxLsnLeadMib} in bytes of WAL (an LSN difference). */
    public long maxLsnLead() {
        return (long) maxLsnLeadMib << 20;
    }
}
