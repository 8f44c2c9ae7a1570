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
 * @param sweep                the region's continuous sweep of its keys against the database
 */
public record ApplyConfig(String groupPrefix, int maxPollRecords, Duration commitInterval, Duration retryBackoffMin,
        Duration retryBackoffMax,
        Duration commandTimeout, int connections, int patternScanCount, int patternKeysPerSecond,
        Duration replicaPollInterval, int proberSampleEvery, List<Duration> proberWindows, int maxLsnLeadMib,
        Sweep sweep) {

    public ApplyConfig {
        proberWindows = List.copyOf(proberWindows);
    }

    /**
     * {@code apply.sweep}: each region consumer walks its cache's keys and judges them against
     * their rows, as {@code lethe inspect} does, continuously and slowly.
     *
     * @param enabled       false: no sweep
     * @param keysPerSecond keys judged a second per region (one SELECT each)
     * @param heal          invalidate confirmed stale entries at their own version
     * @param confirmWithin how long a batch of suspects waits for the region's applied watermark
     */
    public record Sweep(boolean enabled, int keysPerSecond, boolean heal, Duration confirmWithin) {
        public static final Sweep DEFAULT = new Sweep(Defaults.SWEEP_ENABLED, Defaults.SWEEP_KEYS_PER_SECOND, Defaults.SWEEP_HEAL,
                Defaults.SWEEP_CONFIRM_WITHIN);
    }

    /** {@link #maxLsnLeadMib} in bytes of WAL (an LSN difference). */
    public long maxLsnLead() {
        return (long) maxLsnLeadMib << 20;
    }
}
