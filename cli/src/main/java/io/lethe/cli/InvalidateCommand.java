package io.lethe.cli;

import io.lethe.config.ConfigException;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.Patterns;
import io.lethe.config.kafka.KafkaClients;
import io.lethe.config.kafka.TopicSetup;
import io.lethe.schemas.Action;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.mapping.InvalidationMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lethe invalidate}: a manual purge through the pipeline. The event goes to the public
 * topic and to every region that subscribes to the namespace, with a version at least the
 * primary's current LSN, so it removes whatever is cached now.
 */
@Command(name = "invalidate", mixinStandardHelpOptions = true,
        description = "Purge a key or a pattern in every region that caches the namespace, through the pipeline.")
public final class InvalidateCommand implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "lethe.yml")
    Path config;

    @Option(names = "--namespace", required = true, description = "the namespace the keys belong to")
    String namespace;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--key", description = "one cache key")
        String key;

        @Option(names = "--pattern", description = "a Redis glob, e.g. 'product:4*'")
        String pattern;
    }

    @Option(names = "--force", description = "allow a pattern that matches everything or the namespace's whole key space")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        LetheConfig cfg;
        try {
            cfg = ConfigLoader.load(config);
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        }
        NamespaceConfig ns = cfg.namespaces().get(namespace);
        if (ns == null) {
            spec.commandLine().getErr().println("unknown namespace '" + namespace + "'; configured: " + cfg.namespaces().keySet());
            return 2;
        }
        Scope scope = Scope.ROW;
        if (target.pattern != null) {
            if (!ns.confines(target.pattern)) {
                // regions refuse it too (foreign-pattern): a pattern must only reach keys of the namespace it names
                spec.commandLine().getErr().println("refused: '" + target.pattern + "' can match keys that are not namespace "
                        + namespace + "'s (" + (Patterns.matchesEverything(target.pattern) ? "it matches every key in Redis; "
                        : "") + "its templates' globs and patterns: " + ns.keySpace() + "); invalidate each namespace with a "
                        + "pattern within it");
                return 2;
            }
            boolean wide = ns.isNamespaceWide(target.pattern);
            if (wide && !force) {
                spec.commandLine().getErr().println("refused: '" + target.pattern + "' matches all of namespace " + namespace
                        + "; add --force if you mean it");
                return 2;
            }
            scope = wide ? Scope.NAMESPACE : Scope.PATTERN;
        } else if (target.key.startsWith(io.lethe.schemas.redis.RedisLayout.RESERVED_PREFIX) || ns.keys().stream().noneMatch(k -> k.matches(target.key))) {
            spec.commandLine().getErr().println("refused: '" + target.key + "' is not a key of namespace " + namespace
                    + " (its key templates: " + ns.keys() + ")");
            return 2;
        }
        long lsn = currentLsn(cfg);
        String version = ns.version().isLsn() ? Long.toString(lsn) : InvalidationMapper.MAX_VERSION;
        long now = System.currentTimeMillis() * 1000;
        InvalidationEvent event = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "manual:" + UUID.randomUUID(), namespace,
                scope, target.key, target.pattern, Action.DELETE, null, version, lsn, null, now, now, now, null, Op.MANUAL,
                null, cfg.source().region());
        // once per topic: regions that share one (or read the public topic) read the same record
        java.util.Set<String> unique = new java.util.LinkedHashSet<>();
        if (ns.publicTopic()) {
            // the target is built from row values too: a namespace kept off the public topic stays off it
            unique.add(cfg.topics().invalidations());
        }
        // every region that receives the namespace, and every region one of whose namespaces may hold the
        // target (a manual pattern may reach keys the region caches under another namespace)
        cfg.regions().values().stream().filter(r -> cfg.receives(r).contains(namespace) || cfg.receives(r).stream()
                        .map(cfg.namespaces()::get).anyMatch(n -> target.pattern != null ? n.mayReach(target.pattern) : n.mayHold(target.key)))
                .forEach(r -> unique.add(cfg.topics().invalidations(r.name())));
        List<String> topics = new ArrayList<>(unique);
        TopicSetup.ensure(cfg, io.lethe.config.KafkaRole.CLI, topics, Duration.ofSeconds(30));
        Map<String, Object> props = KafkaClients.common(cfg.kafka(), io.lethe.config.KafkaRole.CLI, "lethe-invalidate");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (String topic : topics) {
                ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, event.target(), EventJson.write(event));
                record.headers().add(Headers.SCHEMA, InvalidationEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
                if (topic.equals(cfg.topics().invalidations())) {
                    // the public topic's records carry CloudEvents' headers, whoever writes them
                    io.lethe.schemas.CloudEvents.headers(event, cfg.topics()).forEach(record.headers()::add);
                }
                acks.add(producer.send(record));
            }
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        }
        spec.commandLine().getOut().printf("published %s invalidation of %s (namespace %s, version %s) to %s%n",
                scope.code(), event.target(), namespace, version, topics);
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static long currentLsn(LetheConfig cfg) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", cfg.source().reader());
        if (cfg.source().readerSecret() != null) {
            props.setProperty("password", cfg.source().readerSecret().reveal());
        }
        try (Connection c = DriverManager.getConnection(cfg.source().jdbcUrl(), props);
             ResultSet rs = c.createStatement().executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
