package io.lethe.region.apply;

import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts and reports the upserts {@link Admission} applied as deletes because of the replay floor:
 * those at or below what their partition already carried ({@code lethe.region.replayed.upserts}),
 * and those read while their partition has no floor yet
 * ({@code lethe.region.unproven.upserts{reason=no-floor}}); each kind is logged at most once a
 * minute, with the count since the last report.
 */
final class ReplayReports {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayReports.class);
    private static final long REPLAY_LOG_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final String region;
    private final RegionMetrics metrics;
    private long replayedSinceLog;
    private long replayedLoggedAt;
    private long noFloorSinceLog;
    private long noFloorLoggedAt;

    ReplayReports(String region, RegionMetrics metrics) {
        this.region = region;
        this.metrics = metrics;
    }

    /** An upsert at or below what its partition already carried, applied as a delete. */
    void replayed(ConsumerRecord<?, ?> r) {
        metrics.replayedUpsert();
        replayedSinceLog++;
        long now = System.nanoTime();
        if (replayedLoggedAt == 0 || now - replayedLoggedAt >= REPLAY_LOG_NANOS) {
            LOG.warn("region {}: {} upsert(s) at or below what partition {} already carried applied as deletes since the last "
                    + "report (latest at {}-{}@{}): records delivered again, or old records written back into the topic; "
                    + "a count that rises without consumer restarts means someone does (docs/runbook.md, \"What a region refuses\")",
                    region, replayedSinceLog, r.partition(), r.topic(), r.partition(), r.offset());
            replayedSinceLog = 0;
            replayedLoggedAt = now;
        }
    }

    /** An upsert read while its partition has no replay floor yet, applied as a delete. */
    void noFloor(ConsumerRecord<?, ?> r) {
        metrics.unprovenUpserts("no-floor", 1);
        noFloorSinceLog++;
        long now = System.nanoTime();
        if (noFloorLoggedAt == 0 || now - noFloorLoggedAt >= REPLAY_LOG_NANOS) {
            LOG.warn("region {}: {} upsert(s) applied as deletes since the last report because partition {} has no replay floor yet "
                    + "(latest at {}-{}@{}): no heartbeat of every changes partition came through it since the start, a partition "
                    + "was added or the source's history changed; they cost misses until its heartbeats come (one heartbeat interval "
                    + "plus the lag)", region, noFloorSinceLog, r.partition(), r.topic(), r.partition(), r.offset());
            noFloorSinceLog = 0;
            noFloorLoggedAt = now;
        }
    }
}
