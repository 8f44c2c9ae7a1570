package io.lethe.config;

import java.time.Duration;
import java.util.List;

/**
 * Every default of {@code lethe.yml}, in one place. {@link ConfigReference} renders the
 * configuration reference (docs/configuration.md and {@code lethe config --reference}) from these.
 */
public final class Defaults {
    public static final String SLOT = "lethe";
    public static final String PUBLICATION = "lethe";
    public static final boolean CREATE_PUBLICATION = true;
    public static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(1);
    public static final String HEARTBEAT_TABLE = "public.lethe_heartbeat";
    /**
     * Debezium waits this long for more WAL when idle, twice (reader and engine); 500 ms (its default) adds
     * ~0.5 s of latency. 2 ms rather than 10 ms took light-load p50 commit->applied from 33 to 21 ms
     * (docs/benchmarks.md) for a few hundred cheap wake-ups a second when idle.
     */
    public static final Duration POLL_INTERVAL = Duration.ofMillis(2);
    public static final int MAX_BATCH_SIZE = 2048;
    public static final int MAX_QUEUE_SIZE = 8192;

    /** Lethe captures the primary itself (the other mode, debezium-topics, reads an existing connector's topics). */
    public static final String SOURCE_MODE = "capture";
    /** Whether an existing connector's JsonConverter writes schemas (Kafka Connect's default: schemas.enable=true). */
    public static final boolean DEBEZIUM_TOPICS_SCHEMAS = true;
    /** Whether an existing connector writes transaction metadata (Debezium's default: provide.transaction.metadata=false). */
    public static final boolean DEBEZIUM_TOPICS_TRANSACTION_METADATA = false;

    public static final String TOPIC_PREFIX = "lethe";
    /** Whether the stages create their missing topics (false: each checks them at start, for clusters where applications may not). */
    public static final boolean CREATE_TOPICS = true;
    /** retention.ms of the topics Lethe creates. */
    public static final Duration TOPIC_RETENTION = Duration.ofDays(7);
    /**
     * retention.ms of the DLQ Lethe creates: it holds the original bytes of changes (row data) for audit and
     * replay, so it keeps them less long than the pipeline topics; three days covers a weekend before someone looks.
     */
    public static final Duration DLQ_RETENTION = Duration.ofDays(3);
    /**
     * Whether upserts reach the public topic with their payload (row values). True keeps the public topic a
     * complete copy that a region subscribed to every namespace reads; false sends subscribers the delete at the
     * upsert's version instead.
     */
    public static final boolean PUBLIC_PAYLOADS = true;
    /** Whether a namespace's invalidations reach the public topic other teams read. */
    public static final boolean PUBLIC_TOPIC = true;
    /** The longest outage of a stage the deployment must survive without a wholesale invalidation. */
    public static final Duration OUTAGE_BUDGET = Duration.ofDays(1);

    public static final List<String> PRIMARY_KEY = List.of("id");
    public static final Duration FENCE_TTL = Duration.ofSeconds(60);
    /**
     * How far the clocks of the source's primary (commit times) and a region's host may disagree
     * when a region judges an upsert's age against its namespace's fence-ttl ({@link LetheConfig#upsertAgeMargin}).
     */
    public static final Duration CLOCK_ALLOWANCE = Duration.ofSeconds(1);
    public static final Duration ENTRY_TTL = Duration.ZERO;

    public static final String STREAMS_APPLICATION_ID = "lethe-streams";
    public static final String PROCESSING_GUARANTEE = "at_least_once";
    /**
     * Streams commits under at_least_once: a commit flushes the producer and commits offsets
     * synchronously, stalling the stream thread; once a second costs less than ten times (lethe
     * bench, docs/benchmarks.md), and all a longer interval costs is more changes mapped again
     * after a crash, which every stage tolerates.
     */
    public static final Duration COMMIT_INTERVAL = Duration.ofSeconds(1);
    /** Streams commits under exactly_once_v2: an invalidation becomes visible only at its transaction's commit. */
    public static final Duration COMMIT_INTERVAL_EXACTLY_ONCE = Duration.ofMillis(100);
    public static final Duration PRODUCER_LINGER = Duration.ofMillis(5);
    public static final int MAX_KEY_BYTES = 1024;
    public static final int STREAM_THREADS = 1;

    public static final String GROUP_PREFIX = "lethe-region-";
    public static final int MAX_POLL_RECORDS = 2000;
    public static final Duration RETRY_BACKOFF_MIN = Duration.ofMillis(100);
    public static final Duration RETRY_BACKOFF_MAX = Duration.ofSeconds(5);
    public static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    public static final int REDIS_CONNECTIONS = 1;
    public static final int PATTERN_SCAN_COUNT = 500;
    public static final int PATTERN_KEYS_PER_SECOND = 20_000;
    /**
     * 64 GiB of WAL: how far an invalidation's LSN may be beyond the region's last watermark. A
     * watermark comes with every heartbeat, in the same order as the changes around it, so a real
     * change is ahead of the last one by the WAL written in about one heartbeat interval (plus
     * capture's lag behind heartbeats); this is far more than that, and far less than the 2^63 a
     * forged version could otherwise claim.
     */
    public static final int MAX_LSN_LEAD_MIB = 64 * 1024;
    /** Applied offsets are committed this often: one commit per batch cost the broker more than the apply. */
    public static final Duration APPLY_COMMIT_INTERVAL = Duration.ofMillis(100);
    public static final Duration REPLICA_POLL_INTERVAL = Duration.ofMillis(100);
    public static final int PROBER_SAMPLE_EVERY = 1000;
    public static final List<Duration> PROBER_WINDOWS = List.of(Duration.ofSeconds(1), Duration.ofSeconds(10), Duration.ofSeconds(60));
    /**
     * The region's sweep is on unless turned off: without it a stale entry no invalidation reaches
     * and no shadow read samples stays until it expires (docs/design.md, "The region's sweep").
     */
    public static final boolean SWEEP_ENABLED = true;
    /**
     * Keys a second each region's sweep judges: one SELECT a key on the database the rows come from
     * (the region's replica when it has one), so the whole deployment adds regions x 5 small queries
     * a second, a load no database notices; a region of 100,000 keys is walked in under 6 hours,
     * one of a million in under 2.5 days. Raise it for a faster pass where the database has room.
     */
    public static final int SWEEP_KEYS_PER_SECOND = 5;
    /** The sweep invalidates what it confirmed (invalidate.lua at the entry's version: never more than a reader's next miss). */
    public static final boolean SWEEP_HEAL = true;
    /** How long the sweep waits for the region's applied watermark to pass a batch of suspects before leaving them unconfirmed. */
    public static final Duration SWEEP_CONFIRM_WITHIN = Duration.ofSeconds(60);

    /** How often meters are pushed to an OTLP collector (metrics.otlp.interval); Micrometer's own default step. */
    public static final Duration OTLP_INTERVAL = Duration.ofSeconds(60);
    /** Share of changes capture traces when tracing.endpoint is set (tracing.sample-ratio): 1 in 100. */
    public static final double TRACE_SAMPLE_RATIO = 0.01;

    public static final String HTTP_HOST = "127.0.0.1";
    public static final int HTTP_PORT = 9400;

    private Defaults() {
    }
}
