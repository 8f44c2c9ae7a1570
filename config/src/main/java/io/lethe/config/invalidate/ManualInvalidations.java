package io.lethe.config.invalidate;

import io.lethe.config.KafkaClients;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Manual purges through the pipeline, as {@code lethe invalidate} and cache-client's
 * {@code Invalidations} publish them: the request goes to one topic,
 * {@code <prefix>.invalidation-requests}, with a version at least the primary's current LSN (or the
 * highest version in a column-versioned namespace), so it removes whatever is cached now.
 * invalidation-streams judges it again ({@link ManualRequests}), signs it and sends it to the public
 * topic (when the namespace is on it) and to every region that may cache the target, as its own
 * configuration routes them: the single routing truth, whose skew with the regions' is handled (a
 * topic move waits for streams), so a publisher on an older file than the regions, or one that lacks
 * a region, cannot send a purge to a topic no region reads. Each call returns once Kafka acknowledged
 * the request ({@code acks=all}): the purge is durable then, and reaches each region after streams
 * routed it and the region applied it (their lag, {@code lethe lag}). One producer per instance,
 * opened at the first call; thread-safe. Before the first publish it runs the {@link TopicEnsurer} it
 * was given ({@code lethe invalidate}: stage's {@code TopicSetup}, which config cannot call: config
 * does no Kafka administration); an application's purges are given none (its role may only write the
 * request topic).
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
     * Publishes as {@code role} (its principal needs write on the request topic) to a topic that
     * exists: an application's purges ({@link KafkaRole#APP}), which may not create them.
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

    /** What was published, and where: the request topic (streams routes it on to the regions). */
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
        String notAKey = ManualRequests.notAKey(ns, key);
        if (notAKey != null) {
            throw new Refused("refused: " + notAKey);
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
        String foreign = ManualRequests.foreignPattern(ns, glob);
        if (foreign != null) {
            throw new Refused("refused: " + foreign);
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
        List<String> topics = List.of(config.topics().invalidationRequests());
        List<String> missing = topics.stream().filter(t -> !ensured.contains(t)).toList();
        // an application (role app) writes to the topic the pipeline's stages made: it may not create or describe its configs
        if (!missing.isEmpty() && topicSetup != null && !role.equals(KafkaRole.APP)) {
            topicSetup.ensure(missing);
            ensured.addAll(missing);
        }
        // keyed by the target, so the requests of one key stay in order on one partition (and so does streams' routing of
        // them, which keys its output by the target too); unsigned: streams judges the request and signs what it routes,
        // so a publisher needs no signing key
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topics.get(0), event.target(), EventJson.write(event));
        record.headers().add(Headers.SCHEMA, InvalidationEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
        try {
            producer().send(record).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
        return new Published(scope, ns.name(), event.target(), version, topics);
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
