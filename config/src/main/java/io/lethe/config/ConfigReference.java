package io.lethe.config;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Every setting of {@code lethe.yml} with its default and meaning, rendered as the markdown of
 * docs/configuration.md (a test keeps that file equal to this) and by {@code lethe config --reference}.
 * Defaults come from {@link Defaults}, so the reference cannot drift from the code.
 */
public final class ConfigReference {
    /** One setting: its YAML path, default (empty when required or unset) and meaning. */
    public record Setting(String path, String defaultValue, String meaning) {
    }

    private static final List<Setting> SETTINGS = List.of(
            new Setting("source.jdbc-url", "required", "the PostgreSQL primary, `jdbc:postgresql://host:port/database`"),
            new Setting("source.user", "required", "capture's role: REPLICATION and its heartbeat row; with create-publication also the "
                    + "ownership of the captured tables and CREATE on the database (docs/runbook.md, \"Least privilege\")"),
            new Setting("source.password", "none", "its password; write `${ENV_VAR}`: secrets are never logged"),
            new Setting("source.mode", Defaults.SOURCE_MODE, "`capture`: Lethe reads the primary's WAL itself (Debezium Embedded, "
                    + "its own slot); `debezium-topics`: Lethe runs no capture and translates the topics an existing Debezium PostgreSQL "
                    + "connector writes into `<prefix>.changes` (docs/design.md, \"Reading an existing Debezium stream\"): no replica gate, "
                    + "and the slot, publication and REPLICA IDENTITY are the connector's, which `lethe doctor` checks"),
            new Setting("source.debezium-topics.topic-prefix", "required with mode debezium-topics", "the connector's `topic.prefix`: "
                    + "each configured table's changes are read from `<topic-prefix>.<schema>.<table>`"),
            new Setting("source.debezium-topics.schemas", Boolean.toString(Defaults.DEBEZIUM_TOPICS_SCHEMAS), "whether the connector's "
                    + "`JsonConverter` writes schemas (`value.converter.schemas.enable`); without them the types of key-template columns "
                    + "are unknown and every change of a namespace with a templated key is invalidated by glob (fail closed)"),
            new Setting("source.debezium-topics.unavailable-value-placeholder", DebeziumTopicsConfig.DEBEZIUM_PLACEHOLDER,
                    "the connector's `unavailable.value.placeholder`: a column holding it was not sent (unchanged TOAST) and is unknown"),
            new Setting("source.debezium-topics.heartbeat-topic", "`__debezium-heartbeat.<topic-prefix>`", "the connector's heartbeat "
                    + "topic; each heartbeat becomes a watermark once every change written before it was translated"),
            new Setting("source.debezium-topics.transaction-metadata", Boolean.toString(Defaults.DEBEZIUM_TOPICS_TRANSACTION_METADATA),
                    "whether the connector writes transaction metadata (`provide.transaction.metadata=true`): each change then waits "
                            + "for its transaction's END and carries its commit LSN, which the replica gate needs (refused without it)"),
            new Setting("source.debezium-topics.transaction-topic", "`<topic-prefix>.transaction`", "the connector's transaction "
                    + "metadata topic"),
            new Setting("source.debezium-topics.group-id", "`<kafka.topic-prefix>-debezium-topics`", "the consumer group the "
                    + "translator commits its progress in (only after `<prefix>.changes` acknowledged what it read)"),
            new Setting("source.slot", Defaults.SLOT, "logical replication slot (one reader per slot); with mode debezium-topics, "
                    + "the connector's `slot.name`, which `lethe doctor` checks exists and is active"),
            new Setting("source.publication", Defaults.PUBLICATION, "publication of the configured tables and the heartbeat table; with "
                    + "mode debezium-topics, the connector's `publication.name`, which `lethe doctor` checks covers every configured table"),
            new Setting("source.create-publication", Boolean.toString(Defaults.CREATE_PUBLICATION),
                    "create or extend the publication when the role may, and put back what capture needs of it when it drifts "
                            + "(a table dropped from it or swapped, publish options); otherwise it must exist"),
            new Setting("source.heartbeat-interval", d(Defaults.HEARTBEAT_INTERVAL),
                    "how often capture writes its heartbeat row: the slot advances while the captured tables are idle, and each "
                            + "heartbeat is the watermark every stage's lag is measured by (the end-to-end lag reads up to this much when idle)"),
            new Setting("source.heartbeat-table", Defaults.HEARTBEAT_TABLE, "heartbeat table (created when missing), one row per slot; "
                    + "its column `source_state` keeps the source state capture relies on"),
            new Setting("source.poll-interval", d(Defaults.POLL_INTERVAL),
                    "how long capture waits for WAL when idle (latency vs idle CPU)"),
            new Setting("source.max-batch-size", Integer.toString(Defaults.MAX_BATCH_SIZE), "most changes published per batch"),
            new Setting("source.max-queue-size", Integer.toString(Defaults.MAX_QUEUE_SIZE),
                    "most changes buffered between WAL reader and publisher"),
            new Setting("source.region", "none", "region of the primary, carried as `originRegion`"),
            new Setting("source.debezium", "none", "extra Debezium PostgreSQL connector properties, passed through as they are "
                    + "(e.g. `status.update.interval.ms`); the ones Lethe sets (connection, TLS, slot, publication, offsets, "
                    + "filters, transforms, converters) are refused. `jdbc-url` parameters reach Debezium too: `ssl*` as "
                    + "`database.ssl*`, the rest as `driver.*`"),
            new Setting("source.reader-user", "source.user", "role that only reads the primary (the replica gate's position reads, "
                    + "`lethe invalidate`, `lethe inspect`): no REPLICATION, no ownership (docs/runbook.md, \"Least privilege\")"),
            new Setting("source.reader-password", "source.password", "its password; `${ENV_VAR}`"),
            new Setting("source.shards", "none (one capture: source.slot, source.publication)",
                    "capture shards beyond one slot, one section per shard: disjoint table sets, each read by its own capture "
                            + "(`lethe run --role capture:<name>`, with its own standby) through its own slot, publication and heartbeat row, "
                            + "all publishing to the changes topic; every configured table in exactly one shard; source.slot and "
                            + "source.publication are then refused (docs/design.md, \"Capture shards\")"),
            new Setting("source.shards.<shard>.slot", "required", "the shard's logical replication slot, distinct per shard"),
            new Setting("source.shards.<shard>.publication", "required", "the shard's publication (of its tables and the heartbeat "
                    + "table), distinct per shard"),
            new Setting("source.shards.<shard>.tables", "required", "the shard's tables (`schema.table`), each the table of a namespace; "
                    + "moving one to another shard resets its namespaces when the receiving shard starts"),
            new Setting("kafka.bootstrap-servers", "required", "`host:port[,host:port]`"),
            new Setting("kafka.properties", "{}",
                    "passed to every Kafka client (under its role's identity): `security.protocol`, `sasl.*`, `ssl.*`; `metadata.max.age.ms` is 10 s unless set here"),
            new Setting("kafka.roles", "none", "each role's own Kafka principal, one section per role: `capture`, `streams`, `cli`, "
                    + "`app` (applications purging through cache-client's `Invalidations` or Spring's `@CacheEvict`: it writes purge requests only, which streams routes) "
                    + "(a region consumer's is `regions.<name>.kafka`); a role without one uses `kafka.properties` alone"),
            new Setting("kafka.roles.<role>.user", "none (kafka.properties' identity)",
                    "the SASL user this role logs in as (its own principal, with only its own ACLs: docs/runbook.md, \"Least privilege\"); "
                            + "`sasl.mechanism` PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
            new Setting("kafka.roles.<role>.password", "none", "its password; `${ENV_VAR}`, never logged"),
            new Setting("kafka.roles.<role>.properties", "{}",
                    "client properties of this role only, over `kafka.properties` (e.g. its own `ssl.keystore.*` for mTLS, or `sasl.jaas.config` instead of user/password)"),
            new Setting("kafka.topic-prefix", Defaults.TOPIC_PREFIX,
                    "prefix of every topic: `<prefix>.changes`, `<prefix>.invalidations[.subs-<fingerprint>]`, `<prefix>.invalidation-requests`, `<prefix>.dlq`"),
            new Setting("kafka.create-topics", Boolean.toString(Defaults.CREATE_TOPICS), "whether the stages create the topics they "
                    + "use when missing; false (a cluster where applications may not create topics, e.g. Strimzi): each stage checks "
                    + "at start that they exist with the settings below and refuses to start, naming every topic missing or wrong; "
                    + "`lethe topics --print strimzi|kafka-cli` prints them, `lethe doctor` checks them"),
            new Setting("kafka.partitions", "broker default", "partitions of topics Lethe creates (existing ones need at least as many)"),
            new Setting("kafka.replication-factor", "broker default",
                    "replication factor of topics Lethe creates (existing ones need at least this)"),
            new Setting("kafka.min-insync-replicas", "broker default",
                    "`min.insync.replicas` of topics Lethe creates (existing ones need at least this)"),
            new Setting("kafka.retention", d(Defaults.TOPIC_RETENTION),
                    "`retention.ms` of the changes and invalidation topics Lethe creates (existing topics are left as they are)"),
            new Setting("kafka.dlq-retention", d(Defaults.DLQ_RETENTION), "`retention.ms` of the DLQ when Lethe creates it: it holds the "
                    + "original bytes of changes (row data), so it keeps them less long; `lethe doctor` warns when an existing DLQ keeps "
                    + "records longer (docs/security.md)"),
            new Setting("kafka.public-payloads", Boolean.toString(Defaults.PUBLIC_PAYLOADS),
                    "default of `namespaces.<name>.public-payloads`"),
            new Setting("kafka.outage-budget", d(Defaults.OUTAGE_BUDGET),
                    "the longest stage outage to survive without a wholesale invalidation; `lethe doctor` warns when a topic's retention is shorter"),
            new Setting("regions.<name>.redis", "required",
                    "`redis://`, `rediss://` (TLS) or `redis-sentinel://host:port#master`; for a cluster, seed nodes separated by commas"),
            new Setting("regions.<name>.topology", "standalone (sentinel for redis-sentinel://)", "standalone, sentinel or cluster"),
            new Setting("regions.<name>.redis-user", "default", "ACL user"),
            new Setting("regions.<name>.redis-password", "none", "`${ENV_VAR}`; never logged"),
            new Setting("regions.<name>.redis-ca-file", "the JVM's trust store",
                    "PEM file of the CA certificates to trust for `rediss://` (a private CA)"),
            new Setting("regions.<name>.namespaces", "all",
                    "namespaces this region caches; it also receives the invalidations of every other namespace whose keys or patterns may overlap theirs (a shared pattern), the rest never reach it"),
            new Setting("regions.<name>.replica", "none",
                    "JDBC URL of the read replica this region's readers load from: enables the replica gate; it must be a standby of the primary (in recovery, same system identifier), else the gate refuses it and holds every invalidation"),
            new Setting("regions.<name>.replica-user", "source.reader-user", "role for the replica"),
            new Setting("regions.<name>.replica-password", "source.reader-password", "password for the replica"),
            new Setting("regions.<name>.kafka.bootstrap-servers", "kafka.bootstrap-servers",
                    "the region's own Kafka cluster, which MirrorMaker 2 mirrors the region's topic to (docs/multi-region.md): the region's "
                            + "consumer, its offsets, restore replay, lag and dead letters use it; `kafka.properties` are not sent to it, "
                            + "give its security settings in `regions.<name>.kafka.properties`"),
            new Setting("regions.<name>.kafka.user", "none (kafka.properties' identity)",
                    "the SASL user this region's consumer logs in as"),
            new Setting("regions.<name>.kafka.password", "none", "its password; `${ENV_VAR}`, never logged"),
            new Setting("regions.<name>.kafka.properties", "{}",
                    "client properties of this region's consumer only, over `kafka.properties`"),
            new Setting("namespaces.<name>.table", "required", "`schema.table`"),
            new Setting("namespaces.<name>.keys", "required (or patterns)", "key templates: `product:{id}`; `{{`/`}}` are literal braces"),
            new Setting("namespaces.<name>.patterns", "[]", "Redis globs invalidated by any change to the table"),
            new Setting("namespaces.<name>.version", "lsn", "`lsn`, or `column:<name>` (an integer the application increments)"),
            new Setting("namespaces.<name>.mode", "delete", "`delete`, or `upsert` (row-scoped keys only; needs payload-columns)"),
            new Setting("namespaces.<name>.fence-ttl", d(Defaults.FENCE_TTL),
                    "how long a fence outlives its last invalidation; must exceed the longest load and, with "
                            + "mode upsert, source.heartbeat-interval + apply.command-timeout + 1s (a region applies an upsert whose commit is older "
                            + "than fence-ttl minus that as a delete)"),
            new Setting("namespaces.<name>.primary-key", String.join(",", Defaults.PRIMARY_KEY),
                    "the table's primary-key columns (checked at start-up)"),
            new Setting("namespaces.<name>.payload-columns", "[]", "upsert: columns rendered as the JSON payload"),
            new Setting("namespaces.<name>.ttl", "0 (none)", "upsert: TTL of written entries"),
            new Setting("namespaces.<name>.allow-namespace-wide", "false",
                    "accept patterns (configured or manual) equal to a key template's glob: all of the namespace"),
            new Setting("namespaces.<name>.public-topic", Boolean.toString(Defaults.PUBLIC_TOPIC), "whether the namespace's "
                    + "invalidations reach the public topic other teams read (its keys are built from row values); false keeps "
                    + "them to the region topics, and regions subscribed to every namespace then read their own topic (docs/security.md)"),
            new Setting("namespaces.<name>.public-payloads", "kafka.public-payloads", "upsert: whether upserts reach the public topic "
                    + "with their payload (row values); false sends subscribers the delete at the upsert's version, regions still get "
                    + "the payload (those subscribed to every namespace then read their own topic)"),
            new Setting("namespaces.<name>.allow-unprefixed-keys", "false",
                    "accept key templates that start with a column (their namespace-wide glob matches other namespaces' keys)"),
            new Setting("streams.application-id", Defaults.STREAMS_APPLICATION_ID,
                    "Kafka Streams application id (shared by its instances)"),
            new Setting("streams.processing-guarantee", Defaults.PROCESSING_GUARANTEE, "`at_least_once` or `exactly_once_v2`"),
            new Setting("streams.commit-interval", d(Defaults.COMMIT_INTERVAL) + " (" + d(Defaults.COMMIT_INTERVAL_EXACTLY_ONCE)
                    + " under exactly_once_v2)",
                    "how often progress is committed; under exactly_once_v2 also how late invalidations become visible"),
            new Setting("streams.linger", d(Defaults.PRODUCER_LINGER), "producer linger of the invalidation topics"),
            new Setting("streams.max-key-bytes", Integer.toString(Defaults.MAX_KEY_BYTES),
                    "a longer key: its template's whole glob is invalidated instead and the change dead-lettered"),
            new Setting("streams.threads", Integer.toString(Defaults.STREAM_THREADS), "stream threads per instance"),
            new Setting("streams.state-dir", "Kafka Streams default", "state directory (the topology keeps no state)"),
            new Setting("streams.watermark-key", "none", "secret (at least 16 characters) capture signs watermarks and changes with, "
                    + "and streams and `lethe invalidate` every invalidation and upsert record (HMAC-SHA256); streams maps a change that "
                    + "does not verify into deletes only, regions apply only what verifies (`untrusted-watermark`, `untrusted-record`); "
                    + "set it for every role, e.g. `${LETHE_WATERMARK_KEY}`. Unset: streams and regions take records and watermark "
                    + "headers on trust (docs/runbook.md, \"What a region refuses\"). Never change it in one rollout: rotate it "
                    + "with `streams.previous-watermark-key`"),
            new Setting("streams.previous-watermark-key", "none", "secret (at least 16 characters, not `streams.watermark-key`) "
                    + "accepted exactly as `streams.watermark-key` by every verifier (streams, regions, `lethe lag`, `lethe doctor`, "
                    + "`lethe dlq replay`) and never signed with: it exists only while the key is rotated, so that the instances "
                    + "still signing with one key and those signing with the other are both believed (docs/security.md, "
                    + "\"Rotating the watermark key\": three rollouts). One previous key, not a list: a rotation is one step at a "
                    + "time, and every key still accepted is one more key whose leak lets a forger in. Requires "
                    + "`streams.watermark-key`; drop it once every region's applied watermark, mirrored regions included, has a "
                    + "commit time after the last signer restarted on the new key (`lethe lag`)"),
            new Setting("apply.group-prefix", Defaults.GROUP_PREFIX, "consumer group of region r is `<prefix><r>`"),
            new Setting("apply.max-poll-records", Integer.toString(Defaults.MAX_POLL_RECORDS), "most invalidations per batch"),
            new Setting("apply.commit-interval", d(Defaults.APPLY_COMMIT_INTERVAL),
                    "how often applied offsets are committed (revocation and stop commit at once)"),
            new Setting("apply.retry-backoff-min", d(Defaults.RETRY_BACKOFF_MIN), "first wait after a Redis or Kafka failure"),
            new Setting("apply.retry-backoff-max", d(Defaults.RETRY_BACKOFF_MAX), "longest wait between retries"),
            new Setting("apply.command-timeout", d(Defaults.COMMAND_TIMEOUT), "Redis command timeout"),
            new Setting("apply.connections", Integer.toString(Defaults.REDIS_CONNECTIONS),
                    "Redis connections per region consumer for pipelining"),
            new Setting("apply.pattern-scan-count", Integer.toString(Defaults.PATTERN_SCAN_COUNT),
                    "SCAN COUNT per step of a pattern invalidation"),
            new Setting("apply.pattern-keys-per-second", Integer.toString(Defaults.PATTERN_KEYS_PER_SECOND),
                    "rate limit of pattern invalidations"),
            new Setting("apply.replica-poll-interval", d(Defaults.REPLICA_POLL_INTERVAL),
                    "replica gate: how often the replica's replay LSN (and the primary's position and both system identifiers) is read"),
            new Setting("apply.prober.sample-every", Integer.toString(Defaults.PROBER_SAMPLE_EVERY),
                    "staleness prober: 1 in N invalidations checked (0 = off)"),
            new Setting("apply.prober.windows", Defaults.PROBER_WINDOWS.stream().map(ConfigReference::d).collect(Collectors.joining(", ")),
                    "delays after the commit at which sampled keys are checked"),
            new Setting("apply.max-lsn-lead-mib", Integer.toString(Defaults.MAX_LSN_LEAD_MIB), "an invalidation whose LSN is more "
                    + "than this many MiB of WAL beyond the highest watermark the region merged is refused to the DLQ "
                    + "(`version-out-of-range`); a signed namespace reset at 2^64 - 1 (with `streams.watermark-key` only) lifts the "
                    + "ceiling for signed records until a watermark reaches the reset's LSN (docs/design.md, Region consumer)"),
            new Setting("apply.sweep.enabled", Boolean.toString(Defaults.SWEEP_ENABLED), "each region consumer walks its cache's "
                    + "keys continuously and judges each against its row as `lethe inspect` does, on a thread and connections of its own "
                    + "(docs/design.md, \"The region's sweep\"): finds stale entries no invalidation reaches and no shadow read samples; "
                    + "it reads rows as `source.reader-user` (or the region's replica user), never as the replication role, and without "
                    + "either does not run (one WARN); one instance of a region sweeps at a time (a lease in the region's Redis)"),
            new Setting("apply.sweep.keys-per-second", Integer.toString(Defaults.SWEEP_KEYS_PER_SECOND), "keys the sweep judges a second "
                    + "per region, one SELECT each on the database the rows come from (SCAN steps count as keys): the load it adds, and how "
                    + "long a pass takes (100,000 keys at 5/s: under 6 h)"),
            new Setting("apply.sweep.heal", Boolean.toString(Defaults.SWEEP_HEAL), "invalidate each confirmed stale entry through "
                    + "`invalidate.lua` at the entry's own version (a value written since stays); false: report only"),
            new Setting("apply.sweep.confirm-within", d(Defaults.SWEEP_CONFIRM_WITHIN), "how long a batch of suspects waits for the "
                    + "region's applied watermark to pass the source's position read after their rows before they count as unconfirmed "
                    + "(found again next pass)"),
            new Setting("metrics.otlp.endpoint", "none (no OTLP export)", "an OpenTelemetry collector's OTLP/HTTP metrics URL "
                    + "(`http://collector:4318/v1/metrics`): every meter of `/metrics` is also pushed there, as OTLP protobuf"),
            new Setting("metrics.otlp.interval", d(Defaults.OTLP_INTERVAL), "how often meters are pushed (the step of their deltas)"),
            new Setting("metrics.otlp.headers", "{}", "headers of every push, e.g. `Authorization: \"Bearer ${OTLP_TOKEN}\"`; "
                    + "values are secrets (`${ENV_VAR}`), never logged"),
            new Setting("tracing.endpoint", "none (no tracing)", "an OpenTelemetry collector's OTLP/HTTP traces URL "
                    + "(`http://collector:4318/v1/traces`): capture gives sampled changes a W3C `traceparent` header, streams carries "
                    + "it onto their invalidations (region topics and the public topic), and capture's publish, streams' transform and "
                    + "each region's apply are spans of one trace (attributes: namespace, partition, LSN, counts; never keys or row values)"),
            new Setting("tracing.sample-ratio", Double.toString(Defaults.TRACE_SAMPLE_RATIO), "share of changes traced, from 0 to 1, "
                    + "decided once at capture; an unsampled change carries no header and costs no span"),
            new Setting("tracing.headers", "{}", "headers of every export, e.g. `Authorization: \"Bearer ${OTLP_TOKEN}\"`; "
                    + "values are secrets (`${ENV_VAR}`), never logged"),
            new Setting("http.host", Defaults.HTTP_HOST, "address of `/metrics` and `/health`"),
            new Setting("http.port", Integer.toString(Defaults.HTTP_PORT), "port of `/metrics` and `/health` (0 = a free port)"));

    private ConfigReference() {
    }

    public static List<Setting> settings() {
        return SETTINGS;
    }

    /** The reference as markdown. */
    public static String markdown() {
        StringBuilder md = new StringBuilder(
                """
                        # Configuration reference

                        One YAML file, `lethe.yml`, for every stage. `${NAME}` and `${NAME:-default}` are replaced
                        from the environment. Every mistake in the file is reported at once, each with its path and
                        what is expected; `lethe config --check lethe.yml` validates a file without starting anything.
                        This page is generated from the defaults in the code (`lethe config --reference`).

                        [lethe.schema.json](lethe.schema.json) is the JSON Schema of the same settings, generated from the same
                        defaults and meanings (`lethe config --schema`; the image has it at `/opt/lethe/lethe.schema.json`):
                        an editor with a YAML language server (VS Code's YAML extension, IntelliJ, Neovim's yamlls) completes
                        settings, shows their meaning and flags unknown or mistyped ones when the file's first line names it:

                        ```yaml
                        # yaml-language-server: $schema=../docs/lethe.schema.json
                        ```

                        (a path relative to the file, or the URL you serve the file at; docker/lethe/lethe.yml does so). The schema checks each value's
                        shape; what depends on the database or on other settings is still for `lethe config --check`.

                        | setting | default | meaning |
                        |---|---|---|
                        """);
        for (Setting s : SETTINGS) {
            md.append("| `").append(s.path()).append("` | ").append(s.defaultValue()).append(" | ").append(s.meaning()).append(" |\n");
        }
        return md.toString();
    }

    private static String d(Duration duration) {
        long ms = duration.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        return s % 60 == 0 && s > 0 ? s / 60 + "m" : s + "s";
    }
}
