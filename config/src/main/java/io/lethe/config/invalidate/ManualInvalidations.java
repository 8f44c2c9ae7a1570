package io.lethe.config.invalidate;

import io.lethe.config.KafkaClients;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.Patterns;
import io.lethe.schemas.Action;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Manual purges through the pipeline, as {@code lethe invalidate} and cache-client's
 * {@code Invalidations} publish them: the event goes to the public topic (when the namespace is on
 * it) and to every region that may cache the target, with a version at least the primary's
 * current LSN (or the highest version in a column-versioned namespace), so it removes whatever is
 * cached now and every region applies it in order with CDC's invalidations. Each call returns once
 * Kafka acknowledged the event on every topic ({@code acks=all}). One producer per instance,
 * opened at the first call; thread-safe. Before the first publish to a topic it runs the
 * {@link TopicEnsurer} it was given ({@code lethe invalidate}: stage's {@code TopicSetup}, which
 * config cannot call: config does no Kafka administration); an application's purges are given
 * none (its role may not create or describe the pipeline's topics).
 */
public final class ManualInvalidations implements AutoCloseable {
    private final LetheConfig config;
    private final KafkaRole role;
    private final TopicEnsurer topicSetup;
    private final Set<String> ensured = ConcurrentHashMap.newKeySet();
    private KafkaProducer<String, byte[]> producer;
    private boolean closed;

    /** Creates or checks the topics a publish is about to write, before the first write to each. */
    @FunctionalInterface
    public interface TopicEnsurer {
        /** Returns once every one of {@code topics} is usable; throws when one is not. */
        void ensure(List<String> topics);
    }

    /**
     * Publishes as {@code role} (its principal needs write on the invalidation topics) to topics that
     * exist: an application's purges ({@link KafkaRole#APP}), which may not create them.
     */
    public ManualInvalidations(LetheConfig config, KafkaRole role) {
        this(config, role, null);
    }

    /** As {@link #ManualInvalidations(LetheConfig, KafkaRole)}, running {@code topicSetup} (null: none) before each topic's first publish. */
    public ManualInvalidations(LetheConfig config, KafkaRole role, TopicEnsurer topicSetup) {
        this.config = Objects.requireNonNull(config, "config");
        this.role = Objects.requireNonNull(role, "role");
        this.topicSetup = topicSetup;
    }

    /** What was published. */
    public record Published(Scope scope, String namespace, String target, String version, List<String> topics) {
    }

    /** A target the regions would refuse, or that reaches more than it should: the message says why. */
    public static final class Refused extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /**
     * Purges one key of {@code namespace} in every region that caches it.
     *
     * @throws Refused when the namespace is unknown or the key is not one of its templates'
     */
    public Published key(String namespace, String key) throws Exception {
        NamespaceConfig ns = namespace(namespace);
        Objects.requireNonNull(key, "key");
        if (key.startsWith(RedisLayout.RESERVED_PREFIX) || ns.keys().stream().noneMatch(k -> k.matches(key))) {
            throw new Refused("refused: '" + key + "' is not a key of namespace " + namespace + " (its key templates: " + ns.keys()
                    + "; key format 2 writes each of " + io.lethe.schemas.keys.KeyFormat.RESERVED
                    + " in a value as %XX, e.g. a time's ':' as %3A)");
        }
        return publish(ns, Scope.ROW, key, null);
    }

    /**
     * Purges every key of {@code namespace} matching a Redis glob in every region that may cache one.
     *
     * @param wholeNamespace whether a glob matching all of the namespace is meant ({@code --force})
     * @throws Refused when the glob can match keys of other namespaces, or matches all of this one
     *                 without {@code wholeNamespace}
     */
    public Published pattern(String namespace, String glob, boolean wholeNamespace) throws Exception {
        NamespaceConfig ns = namespace(namespace);
        Objects.requireNonNull(glob, "glob");
        if (!ns.confines(glob)) {
            // regions refuse it too (foreign-pattern): a pattern must only reach keys of the namespace it names
            throw new Refused("refused: '" + glob + "' can match keys that are not namespace " + namespace + "'s ("
                    + (Patterns.matchesEverything(glob) ? "it matches every key in Redis; " : "")
                    + "its templates' globs and patterns: " + ns.keySpace() + "); invalidate each namespace with a pattern within it");
        }
        boolean wide = ns.isNamespaceWide(glob);
        if (wide && !wholeNamespace) {
            throw new Refused("refused: '" + glob + "' matches all of namespace " + namespace
                    + "; to purge the whole namespace say so (lethe invalidate --force)");
        }
        return publish(ns, wide ? Scope.NAMESPACE : Scope.PATTERN, null, glob);
    }

    private NamespaceConfig namespace(String namespace) {
        NamespaceConfig ns = config.namespaces().get(namespace);
        if (ns == null) {
            throw new Refused("unknown namespace '" + namespace + "'; configured: " + config.namespaces().keySet());
        }
        return ns;
    }

    private Published publish(NamespaceConfig ns, Scope scope, String key, String pattern) throws Exception {
        long lsn = currentLsn();
        String version = ns.version().isLsn() ? Long.toString(lsn) : Versions.MAX;
        long now = System.currentTimeMillis() * 1000;
        InvalidationEvent event = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "manual:" + UUID.randomUUID(), ns.name(),
                scope, key, pattern, Action.DELETE, null, version, lsn, null, now, now, now, null, Op.MANUAL,
                null, config.source().region());
        List<String> topics = topics(ns, key, pattern);
        List<String> missing = topics.stream().filter(t -> !ensured.contains(t)).toList();
        // an application (role app) writes to topics the pipeline's stages made: it may not create or describe their configs
        if (!missing.isEmpty() && topicSetup != null && !role.equals(KafkaRole.APP)) {
            topicSetup.ensure(missing);
            ensured.addAll(missing);
        }
        KafkaProducer<String, byte[]> p = producer();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        byte[] value = EventJson.write(event);
        // regions with streams.watermark-key apply only signed records: a manual invalidation is signed as streams signs
        // (with the current key only; a previous key is accepted during a rotation, never signed with)
        io.lethe.schemas.SigningKeys keys = config.streams().signingKeys();
        io.lethe.schemas.RecordSignature signature = keys == null ? null : keys.signer();
        for (String topic : topics) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, event.target(), value);
            record.headers().add(Headers.SCHEMA, InvalidationEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
            if (signature != null) {
                signature.addTo(record.headers(), event.target(), value);
            }
            if (topic.equals(config.topics().invalidations())) {
                // the public topic's records carry CloudEvents' headers, whoever writes them
                io.lethe.schemas.CloudEvents.headers(event, config.topics()).forEach(record.headers()::add);
            }
            acks.add(p.send(record));
        }
        for (Future<RecordMetadata> ack : acks) {
            try {
                ack.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception cause ? cause : e;
            }
        }
        return new Published(scope, ns.name(), event.target(), version, topics);
    }

    /**
     * Once per topic: the public topic when the namespace is on it (the target is built from row
     * values too: a namespace kept off it stays off it), every region that receives the namespace,
     * and every region one of whose namespaces may hold the target (a manual pattern may reach keys
     * the region caches under another namespace).
     */
    private List<String> topics(NamespaceConfig ns, String key, String pattern) {
        Set<String> unique = new LinkedHashSet<>();
        if (ns.publicTopic()) {
            unique.add(config.topics().invalidations());
        }
        config.regions().values().stream().filter(r -> config.receives(r).contains(ns.name()) || config.receives(r).stream()
                .map(config.namespaces()::get).anyMatch(n -> pattern != null ? n.mayReach(pattern) : n.mayHold(key)))
                .forEach(r -> unique.add(config.topics().invalidations(r.name())));
        return new ArrayList<>(unique);
    }

    private synchronized KafkaProducer<String, byte[]> producer() {
        if (closed) {
            throw new IllegalStateException("manual invalidations closed");
        }
        if (producer == null) {
            Map<String, Object> props = KafkaClients.common(config.kafka(), role, "lethe-invalidate");
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    /** The primary's current WAL position, read as {@code source.reader-user}. */
    private long currentLsn() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", config.source().reader());
        if (config.source().readerSecret() != null) {
            props.setProperty("password", config.source().readerSecret().reveal());
        }
        try (Connection c = DriverManager.getConnection(config.source().jdbcUrl(), props);
                ResultSet rs = c.createStatement().executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (producer != null) {
            producer.close();
            producer = null;
        }
    }
}
