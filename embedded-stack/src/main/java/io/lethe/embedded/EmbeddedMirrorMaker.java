package io.lethe.embedded;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.connect.mirror.MirrorMaker;

/**
 * Kafka's own MirrorMaker 2 ({@code connect-mirror}, dedicated mode) run in this JVM, mirroring
 * the named topics of one cluster to another, one way: for tests of regions that read a cluster
 * of their own. The settings are the ones docs/multi-region.md says Lethe needs:
 * {@code IdentityReplicationPolicy} (topic names kept), records read {@code read_committed}
 * (streams under {@code exactly_once_v2} writes in transactions), and no heartbeats, checkpoints,
 * offset syncs or group offset syncs (Lethe translates no offsets across the mirror). MirrorMaker
 * keeps each record's key, value, headers and timestamp.
 */
public final class EmbeddedMirrorMaker implements AutoCloseable {
    /** The source cluster's alias in MirrorMaker's configuration. */
    public static final String SOURCE = "primary";
    /** The target cluster's alias. */
    public static final String TARGET = "region";

    private final Map<String, String> properties;
    private MirrorMaker mirrorMaker;

    private EmbeddedMirrorMaker(Map<String, String> properties) {
        this.properties = Map.copyOf(properties);
    }

    /**
     * Starts mirroring the topics {@code topics} names (exact names) from {@code source} to
     * {@code target}; topics created later are picked up within a second.
     */
    public static EmbeddedMirrorMaker start(String source, String target, List<String> topics) {
        EmbeddedMirrorMaker mm = new EmbeddedMirrorMaker(properties(source, target, topics));
        mm.startMirror();
        return mm;
    }

    /** MirrorMaker 2's configuration for a one-way mirror of {@code topics} (exact names). */
    public static Map<String, String> properties(String source, String target, List<String> topics) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("clusters", SOURCE + ", " + TARGET);
        p.put(SOURCE + ".bootstrap.servers", source);
        p.put(TARGET + ".bootstrap.servers", target);
        p.put(SOURCE + "->" + TARGET + ".enabled", "true");
        p.put(TARGET + "->" + SOURCE + ".enabled", "false");
        p.put(SOURCE + "->" + TARGET + ".topics", String.join("|", topics.stream().map(Pattern::quote).toList()));
        p.put("replication.policy.class", "org.apache.kafka.connect.mirror.IdentityReplicationPolicy");
        // what Lethe does not use: it translates no offsets across the mirror (docs/multi-region.md)
        p.put("emit.heartbeats.enabled", "false");
        p.put("emit.checkpoints.enabled", "false");
        p.put("emit.offset-syncs.enabled", "false");
        p.put("sync.group.offsets.enabled", "false");
        p.put("sync.topic.acls.enabled", "false");
        p.put("refresh.topics.interval.seconds", "1");
        p.put("refresh.groups.interval.seconds", "600");
        p.put("tasks.max", "1");
        // streams may write in transactions: mirror only what committed
        p.put(SOURCE + ".consumer.isolation.level", "read_committed");
        p.put(TARGET + ".producer.linger.ms", "0");
        p.put(TARGET + ".producer.acks", "all");
        // one broker per cluster here
        for (String topic : List.of("replication.factor", "offset-syncs.topic.replication.factor", "heartbeats.topic.replication.factor",
                "checkpoints.topic.replication.factor", "config.storage.replication.factor", "offset.storage.replication.factor",
                "status.storage.replication.factor")) {
            p.put(topic, "1");
        }
        return p;
    }

    private synchronized void startMirror() {
        if (mirrorMaker != null) {
            return;
        }
        MirrorMaker m = new MirrorMaker(properties, List.of(TARGET));
        m.start();
        mirrorMaker = m;
    }

    /** Stops mirroring (the target keeps what it has): a mirror outage. {@link #restart()} resumes where it stopped. */
    public synchronized void stop() {
        if (mirrorMaker == null) {
            return;
        }
        mirrorMaker.stop();
        mirrorMaker.awaitStop();
        mirrorMaker = null;
    }

    /** Starts it again after {@link #stop()}; it resumes from the source offsets it stored on the target. */
    public void restart() {
        startMirror();
    }

    /** The configuration it runs with (no credentials: the embedded clusters' plain listeners). */
    public Map<String, String> properties() {
        return properties;
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "EmbeddedMirrorMaker[" + properties.get(SOURCE + ".bootstrap.servers") + " -> " + properties.get(TARGET + ".bootstrap.servers")
                + ", topics " + properties.get(SOURCE + "->" + TARGET + ".topics") + "]";
    }

}
