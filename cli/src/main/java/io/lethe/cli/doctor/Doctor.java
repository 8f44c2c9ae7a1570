package io.lethe.cli.doctor;

import io.lethe.capture.source.CheckResult;
import io.lethe.capture.source.DatabaseChecks;
import io.lethe.config.LetheConfig;
import io.lethe.config.RedisTopology;
import io.lethe.config.RegionConfig;
import io.lethe.config.KafkaClients;
import io.lethe.stage.kafka.TopicSetup;
import io.lethe.stage.kafka.TopicSpec;
import io.lethe.region.redis.RedisEndpoints;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;

/**
 * Everything {@code lethe doctor} checks: the database (through capture's own start-up checks),
 * Kafka, and every region's Redis; each result with the exact fix.
 */
public final class Doctor {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final LetheConfig config;

    public Doctor(LetheConfig config) {
        this.config = config;
    }

    public List<CheckResult> run() {
        List<CheckResult> results = new ArrayList<>(TransportChecks.run(config));
        results.add(RotationCheck.run(config));
        results.addAll(database());
        results.addAll(ReaderChecks.run(config));
        results.addAll(kafka());
        for (RegionConfig region : config.regions().values()) {
            results.add(redis(region));
        }
        return results;
    }

    private List<CheckResult> database() {
        Properties props = new Properties();
        props.setProperty("user", config.source().user());
        if (config.source().password() != null) {
            props.setProperty("password", config.source().password().reveal());
        }
        props.setProperty("connectTimeout", Long.toString(TIMEOUT.toSeconds()));
        try (Connection c = DriverManager.getConnection(config.source().jdbcUrl(), props)) {
            if (!config.source().sharded()) {
                return new DatabaseChecks(config).run(c);
            }
            // every capture shard's slot, publication, tables and source state, each check named by its shard
            List<CheckResult> results = new ArrayList<>();
            for (String shard : config.source().shards().keySet()) {
                for (CheckResult r : new DatabaseChecks(config.forShard(shard)).run(c)) {
                    results.add(new CheckResult("shard " + shard + ": " + r.check(), r.status(), r.message(), r.fix()));
                }
            }
            return results;
        } catch (SQLException e) {
            return List.of(CheckResult.fail("database",
                    "cannot connect to " + io.lethe.config.JdbcUrls.forDisplay(config.source().jdbcUrl()) + " as "
                            + config.source().user() + ": " + e.getMessage(),
                    "check source.jdbc-url, source.user and the password "
                            + "in " + config.file() + "; pg_hba.conf must allow this host"));
        }
    }

    private List<CheckResult> kafka() {
        List<CheckResult> results = new ArrayList<>();
        Map<String, Object> props = KafkaClients.common(config.kafka(), io.lethe.config.KafkaRole.CLI, "lethe-doctor");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        try (Admin admin = Admin.create(props)) {
            int brokers = admin.describeCluster().nodes().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).size();
            results.add(CheckResult.pass("kafka", "reachable at " + config.kafka().bootstrapServers() + ", " + brokers + " broker(s)"));
            Set<String> existing = admin.listTopics().names().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            List<String> wanted = TopicSpec.all(config).stream().map(TopicSpec::name).toList();
            if (config.source().readsDebeziumTopics()) {
                results.add(connectorTopics(existing));
            }
            List<String> present = wanted.stream().filter(existing::contains).toList();
            StringBuilder partitions = new StringBuilder();
            if (!present.isEmpty()) {
                Map<String, TopicDescription> d = admin.describeTopics(present).allTopicNames().get(TIMEOUT.toMillis(),
                        TimeUnit.MILLISECONDS);
                d.forEach((name, desc) -> partitions.append(partitions.length() == 0 ? "" : ", ").append(name).append('=')
                        .append(desc.partitions().size()));
            }
            if (!present.isEmpty()) {
                results.addAll(retention(admin, present.stream().filter(t -> !t.equals(config.topics().captureOffsets())).toList()));
            }
            // the same check every stage runs at start under kafka.create-topics: false
            List<String> wrong = TopicSetup.check(admin, config.kafka(), wanted, TIMEOUT);
            if (wrong.isEmpty()) {
                results.add(CheckResult.pass("kafka topics", "all present with the settings Lethe needs (partitions: " + partitions + ")"));
            } else if (!config.kafka().createTopics()) {
                results.add(CheckResult.fail("kafka topics", TopicSetup.lockedDownMessage(config, "no stage", wrong),
                        "lethe topics --print kafka-cli (or strimzi) --config " + config.file() + " prints every topic with its settings"));
            } else {
                results.add(CheckResult.warn("kafka topics", String.join("; ", wrong) + ". The stages create missing topics at start-up "
                        + "and leave existing ones as they are",
                        "none needed for missing topics; alter the wrong ones (kafka-topics.sh --alter, kafka-configs.sh --alter)"));
            }
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            results.add(CheckResult.fail("kafka", "cannot reach " + config.kafka().bootstrapServers() + ": " + rootMessage(e),
                    "check kafka.bootstrap-servers and kafka.properties (security.protocol, sasl.*, ssl.*) in " + config.file()));
        }
        return results;
    }

    /** source.mode debezium-topics: the topics the existing connector writes and Lethe reads. */
    private CheckResult connectorTopics(Set<String> existing) {
        var topics = config.source().debeziumTopics();
        List<String> missing = new ArrayList<>();
        config.tables().stream().map(topics::topicOf).filter(t -> !existing.contains(t)).forEach(missing::add);
        boolean heartbeats = existing.contains(topics.heartbeatTopic());
        if (missing.isEmpty() && heartbeats) {
            return CheckResult.pass("debezium topics", "the connector's topics of every configured table and its heartbeat topic "
                    + topics.heartbeatTopic() + " exist");
        }
        return CheckResult.warn("debezium topics", (missing.isEmpty()
                ? ""
                : "no topic " + missing + " yet (the connector creates a "
                        + "table's topic with its first change; is topic-prefix " + topics.topicPrefix() + " its topic.prefix?)")
                + (heartbeats
                        ? ""
                        : (missing.isEmpty() ? "" : "; ") + "no heartbeat topic " + topics.heartbeatTopic()
                                + ": no watermarks, so lag is unknown"),
                "check source.debezium-topics.topic-prefix; set heartbeat.interval.ms on the connector");
    }

    /**
     * A stage down longer than its topic's retention loses what it did not read; it then
     * invalidates wholesale (fail closed), which empties caches. Retention must outlast the
     * outage budget.
     */
    private List<CheckResult> retention(Admin admin, List<String> topics) throws Exception {
        List<ConfigResource> resources = topics.stream().map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
        Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        long budget = config.kafka().outageBudget().toMillis();
        List<String> short_ = new ArrayList<>();
        List<CheckResult> out = new ArrayList<>();
        configs.forEach((resource, c) -> {
            var entry = c.get("retention.ms");
            long ms = entry == null || entry.value() == null ? -1 : Long.parseLong(entry.value());
            if (resource.name().equals(config.topics().dlq())) {
                out.add(dlqRetention(config, ms)); // audit, not a stage's input: the outage budget does not apply
            } else if (ms >= 0 && ms < budget) {
                short_.add(resource.name() + " (" + Duration.ofMillis(ms) + ")");
            }
        });
        if (short_.isEmpty()) {
            out.add(0, CheckResult.pass("kafka retention", "every pipeline topic keeps records at least kafka.outage-budget ("
                    + config.kafka().outageBudget() + ")"));
            return out;
        }
        out.add(0, CheckResult.warn("kafka retention", "retention of " + short_ + " is shorter than kafka.outage-budget ("
                + config.kafka().outageBudget() + "): a stage down that long loses what it did not read (changes, purge requests, "
                + "invalidations) and invalidates its namespaces wholesale (streams: changes or request topic; a region: its topic)",
                "kafka-configs.sh --alter --entity-type topics --entity-name <topic> --add-config retention.ms="
                        + config.kafka().retention().toMillis() + " (or lower kafka.outage-budget in " + config.file() + ")"));
        return out;
    }

    /**
     * The DLQ holds the original bytes of changes (row data): it should keep them no longer than
     * {@code kafka.dlq-retention}, which Lethe applies only when it creates the topic.
     */
    static CheckResult dlqRetention(LetheConfig config, long retentionMs) {
        String dlq = config.topics().dlq();
        Duration wanted = config.kafka().dlqRetention();
        if (retentionMs >= 0 && retentionMs <= wanted.toMillis()) {
            return CheckResult.pass("kafka dlq retention", dlq + " keeps records " + Duration.ofMillis(retentionMs)
                    + ", within kafka.dlq-retention (" + wanted + ")");
        }
        return CheckResult.warn("kafka dlq retention",
                dlq + " keeps records " + (retentionMs < 0 ? "forever" : Duration.ofMillis(retentionMs))
                        + ", longer than kafka.dlq-retention (" + wanted + "): it holds the original changes (row data), so personal "
                        + "data stays there longer than documented (docs/security.md)",
                "kafka-configs.sh --alter --entity-type topics --entity-name " + dlq + " --add-config retention.ms=" + wanted.toMillis()
                        + " (or raise kafka.dlq-retention in " + config.file() + ")");
    }

    /**
     * Fences carry TTLs and entries often do not: under a {@code volatile-*} policy Redis evicts
     * fences first, and a fill whose fence was evicted during the load cannot be refused.
     */
    private CheckResult evictionPolicy(RegionConfig region, RedisCommands<String, String> redis) {
        String check = "redis " + region.name() + " eviction";
        String memory = redis.info("memory");
        String policy = field(memory, "maxmemory_policy");
        if ("0".equals(field(memory, "maxmemory"))) {
            return CheckResult.pass(check, "no maxmemory: nothing is evicted (maxmemory-policy " + policy + " applies once one is set)");
        }
        if (policy == null) {
            return CheckResult.warn(check, "Redis did not report maxmemory_policy", "check CONFIG GET maxmemory-policy yourself");
        }
        if (policy.startsWith("volatile-")) {
            return CheckResult.fail(check, "maxmemory-policy is " + policy + ": Redis evicts keys with a TTL first, and every "
                    + "fence has one, so fences go before the entries they protect and a reader's old value can be filled back",
                    "CONFIG SET maxmemory-policy allkeys-lru (and in redis.conf), or allkeys-lfu");
        }
        if (policy.equals("noeviction")) {
            return CheckResult.warn(check, "maxmemory-policy is noeviction: when Redis is full, invalidations (which write "
                    + "fences) are refused with OOM and the region stops until memory is freed", "CONFIG SET maxmemory-policy allkeys-lru");
        }
        return CheckResult.pass(check, "maxmemory-policy " + policy);
    }

    private CheckResult redis(RegionConfig region) {
        String check = "redis " + region.name();
        RedisClient client = RedisClient.create();
        try {
            // the first seed node of a cluster; made as the region consumer makes its connections (TLS CA, credentials)
            RedisURI uri = RedisEndpoints.uris(region, TIMEOUT).get(0);
            client.setOptions(ClientOptions.builder().sslOptions(RedisEndpoints.sslOptions(region)).build());
            try (StatefulRedisConnection<String, String> c = client.connect(uri)) {
                RedisCommands<String, String> redis = c.sync();
                String info = redis.info("server") + redis.info("cluster");
                String version = field(info, "redis_version");
                boolean cluster = "1".equals(field(info, "cluster_enabled"));
                if (cluster && region.topology() != RedisTopology.CLUSTER) {
                    return CheckResult.fail(check, region.redisUriForDisplay() + " is a Redis Cluster node but the region's topology is "
                            + region.topology().name().toLowerCase(),
                            "set regions." + region.name() + ".topology: cluster in " + config.file());
                }
                if (!cluster && region.topology() == RedisTopology.CLUSTER) {
                    return CheckResult.fail(check, region.redisUriForDisplay() + " is not in cluster mode",
                            "set regions." + region.name() + ".topology: standalone (or sentinel) in " + config.file());
                }
                int major = version == null ? 0 : Integer.parseInt(version.split("\\.")[0]);
                if (major < 5) {
                    // the contract scripts read TIME before writing: Redis 4 and older refuse writes after a
                    // non-deterministic command in a script replicated verbatim
                    return CheckResult.fail(check, "Redis " + version + " cannot run Lethe's scripts (they read TIME before writing, "
                            + "which needs effects replication, the default from Redis 5)", "upgrade to Redis 6.2 or later");
                }
                if (major < 6) {
                    return CheckResult.warn(check, "Redis " + version + ": scripts work, but the cache-client's near cache "
                            + "needs Redis 6 (RESP3 CLIENT TRACKING)", "upgrade to Redis 6.2 or later");
                }
                CheckResult eviction = evictionPolicy(region, redis);
                if (eviction.status() != CheckResult.Status.PASS) {
                    return eviction;
                }
                return CheckResult.pass(check, "Redis " + version + " at " + region.redisUriForDisplay()
                        + (cluster ? " (cluster)" : "") + (region.redisPassword() != null ? ", authenticated" : "")
                        + ", " + eviction.message());
            }
        } catch (RuntimeException e) {
            String message = rootMessage(e);
            if (message.contains("NOAUTH") || message.contains("WRONGPASS") || message.contains("AUTH")) {
                return CheckResult.fail(check, region.redisUriForDisplay() + " refused authentication: " + message,
                        "set regions." + region.name() + ".redis-user and redis-password (from the environment) in " + config.file());
            }
            return CheckResult.fail(check, "cannot reach " + region.redisUriForDisplay() + ": " + message,
                    "check regions." + region.name() + ".redis in " + config.file() + " and that Redis listens there");
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
    }

    private static String field(String info, String name) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).trim();
            }
        }
        return null;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
