package io.lethe.region.apply;

import java.util.List;

/**
 * The names of a region consumer's meters ({@link RegionMetrics} registers them), and the tag
 * values some of them carry: what dashboards, alerts and the workbench read.
 */
public final class RegionMeterNames {
    private RegionMeterNames() {
    }

    /** Invalidations applied, by result: deleted, kept-newer, absent, upserted, refused, superseded. */
    public static final String APPLIED = "lethe.region.applied";
    /** Invalidations per applied batch. */
    public static final String BATCH_SIZE = "lethe.region.batch.size";
    /** Time from flushing a batch's script calls to the last reply. */
    public static final String REDIS_LATENCY = "lethe.region.redis.latency";
    /** Records in this region's topic not yet applied. */
    public static final String LAG_RECORDS = "lethe.region.lag.records";
    /** now - commit time of the last applied invalidation while records wait; 0 when caught up. */
    public static final String LAG_SECONDS = "lethe.region.lag.seconds";
    /** Commit in PostgreSQL to applied in this region's Redis: the staleness SLO (a histogram). */
    public static final String LATENCY = "lethe.invalidation.latency";
    /** The same latency's p50/p99/p99.9 over the last minute, as gauges tagged {@code quantile}. */
    public static final String LATENCY_RECENT = "lethe.invalidation.latency.recent";
    /** Every result tag value of {@link #APPLIED}. */
    public static final List<String> RESULTS = List.of("deleted", "kept-newer", "absent", "upserted", "refused", "superseded");
    /** Batches retried after a Redis or Kafka failure, by kind. */
    public static final String RETRIES = "lethe.region.retries";
    /** Records sent to the DLQ, by reason and stage. */
    public static final String DLQ = "lethe.dlq.events";
    /**
     * Keys the region's sweep judged against their rows, by namespace and result: {@code checked}
     * (every key judged), the finding of each confirmed stale key in lower case ({@code row_gone},
     * {@code older_version}, ...: {@code CacheInspector}'s {@code Finding}), {@code healed},
     * {@code cleared} (a suspect a change in flight explained) and {@code unconfirmed} (the applied
     * watermark did not pass the suspects' position in time).
     */
    public static final String SWEEP_KEYS = "lethe.region.sweep.keys";
    /** When the sweep last finished a pass over every key of a namespace (epoch seconds; NaN before the first). */
    public static final String SWEEP_PASS_FINISHED = "lethe.region.sweep.pass.finished";
    /**
     * Sweep steps that failed, by cause: {@code database} or {@code redis} did not answer (the sweep
     * waits and goes on), {@code key} (one key that could not be judged, skipped), {@code other}.
     */
    public static final String SWEEP_ERRORS = "lethe.region.sweep.errors";
    /**
     * 1 while this instance sweeps the region (it holds the region's sweep lease), 0 when the sweep is
     * off ({@code apply.sweep.enabled: false}, or no reader role: {@code source.reader-user}) or another
     * instance of the region sweeps.
     */
    public static final String SWEEP_ACTIVE = "lethe.region.sweep.active";
    /** Keys visited by pattern invalidations. */
    public static final String PATTERN_KEYS = "lethe.region.pattern.keys";
    /**
     * Slots of a Redis Cluster whose keys a pattern or namespace-wide scan read again, because they
     * moved between masters or were migrating while it ran (a resharding).
     */
    public static final String SCAN_SLOTS_RESCANNED = "lethe.region.scan.slots.rescanned";
    /**
     * Pattern and namespace-wide sweeps waiting or running on the region's sweep worker: the
     * offsets and heartbeats of everything applied behind them wait for them (key invalidations
     * behind them are applied meanwhile).
     */
    public static final String PATTERN_BACKLOG = "lethe.region.pattern.backlog";
    /** How long one pattern or namespace-wide sweep took, from its start to its last key (retries included). */
    public static final String PATTERN_DURATION = "lethe.region.pattern.duration";
    /** Batches applied once and waiting for the replica to replay past them (replica gate). */
    public static final String GATE_PENDING = "lethe.region.gate.pending";
    /** 1 while the replica gate refuses its replica (not a standby of the primary), else 0 (also without a gate). */
    public static final String REPLICA_REFUSED = "lethe.region.replica.refused";
    /** Invalidations re-applied after the replica replayed past them (replica gate). */
    public static final String GATE_REAPPLIED = "lethe.region.gate.reapplied";
    /**
     * The region's Redis came back without writes Lethe had applied (restarted from an older
     * snapshot, or a replica promoted), by what the consumer did: replayed-checkpoint,
     * replayed-fence-window (an empty Redis), wholesale (data of unknown position). Page on it.
     */
    public static final String REDIS_RESTORES = "lethe.region.redis.restores";
    /** Every action tag value of {@link #REDIS_RESTORES}. */
    public static final List<String> RESTORE_ACTIONS = List.of("replayed-checkpoint", "replayed-fence-window", "wholesale");
    /**
     * Partitions whose records were deleted (retention) before this region applied them, so its
     * namespaces were invalidated wholesale. Page on it: the outage outlasted the topic's retention.
     */
    public static final String OFFSETS_LOST = "lethe.region.offsets.lost";
    /**
     * Times the configuration moved this region to another topic and it started with a wholesale
     * invalidation of its namespaces (see {@code TopicMove}).
     */
    public static final String TOPIC_MOVES = "lethe.region.topic.moves";
    /**
     * First feeds done: the region's Redis recorded no topic, so every namespace the region
     * receives was invalidated wholesale at the first watermark it applied (see {@code TopicMove.NOTHING}).
     */
    public static final String FIRST_FEEDS = "lethe.region.first.feeds";
    /** 1 while a first feed waits for its proof: entries this Redis held before may still be served. */
    public static final String FIRST_FEED_PENDING = "lethe.region.first.feed.pending";
    /**
     * Deletes applied although their record carried no valid {@code lethe.signature} (with
     * {@code streams.watermark-key}): an invalidation published without the key. Upserts without one are refused.
     */
    public static final String UNSIGNED_DELETES = "lethe.region.unsigned.deletes";
    /**
     * Upserts applied as deletes because their commit LSN is not above what the region already
     * applied of the stream they came through (a redelivery, or a copy of an old signed record
     * written back into the topic): see {@code ReplayFloor}.
     */
    public static final String REPLAYED_UPSERTS = "lethe.region.replayed.upserts";
    /**
     * Upserts applied as deletes because nothing proves them new (issue 34, replay), by
     * {@code reason}: {@code no-floor} (read while their partition had no replay floor yet: a first
     * start before its first heartbeats, a partition just added, a change of source history) or
     * {@code aged} (committed longer ago than the namespace's fence-ttl minus the margin when applied:
     * the region lags). Each costs a miss, never a stale entry.
     */
    public static final String UNPROVEN_UPSERTS = "lethe.region.unproven.upserts";
    /** The reasons of {@link #UNPROVEN_UPSERTS}. */
    public static final List<String> UNPROVEN_REASONS = List.of("no-floor", "aged");
    /**
     * Upserts a region applied and then undid (applied again as the delete at their version), by {@code reason}:
     * {@code other-holds} (once Redis acknowledged them, the region's Redis recorded other holds for their namespace
     * than this instance's configuration: another instance of the group started on another file and may have
     * invalidated the namespace wholesale past their keys; applied again as deletes, see {@code UpsertHolds}).*
     */
    public static final String UPSERTS_UNDONE = "lethe.region.upserts.undone";
    /** The reasons of {@link #UPSERTS_UNDONE}. */
    public static final List<String> UNDONE_REASONS = List.of("other-holds");
    /**
     * Namespaces whose holds record a running region rewrote and then invalidated wholesale ({@code HoldsReconciler}), by
     * {@code reason}: {@code absent} (none recorded: evicted, deleted, lost in a failover), {@code other} (another file's
     * or {@code not-received}, with no move in progress: a move stopped half-way and rolled back, a downgrade), or
     * {@code unfinished} (an instance stopped between such a rewrite and its invalidation). Any increase: see the runbook.
     */
    public static final String HOLDS_REWRITTEN = "lethe.region.holds.rewritten";
    /** The reasons of {@link #HOLDS_REWRITTEN}. */
    public static final List<String> REWRITTEN_REASONS = List.of("absent", "other", "unfinished");
    /** 1 while the consumer loop runs and Redis answers, 0 otherwise. */
    public static final String UP = "lethe.region.up";
    /**
     * Partitions of the region's topic this instance owns. Summed over a region's instances it is
     * 0 when the consumer group has no member applying (every instance stopped, or stuck
     * rebalancing): the LetheRegionNoConsumer alert.
     */
    public static final String ASSIGNED = "lethe.region.assigned.partitions";
    /**
     * Seconds from the newest heartbeat committed in PostgreSQL that this region has applied
     * everything before, to now: the end-to-end lag, counting every stage (slot, capture, changes
     * topic, streams, region topic, Redis); it grows while any of them stops, even when no
     * invalidation arrives. NaN before the first heartbeat.
     */
    public static final String END_TO_END_LAG = "lethe.region.end.to.end.lag";
    /** Gauge: the region's applied watermark as published for read-your-writes readers (commit LSN; NaN before the first). */
    public static final String APPLIED_LSN = "lethe.region.applied.lsn";
    /** Keys Redis refused for good, by reason; widened=true when the wider invalidation was applied instead. */
    public static final String POISONED = "lethe.region.poisoned";
}
