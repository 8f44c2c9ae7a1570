package io.lethe.dev.verify.mirror;

import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.KafkaResources;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.mirror.MirrorMaker;

/**
 * Kafka's own MirrorMaker 2 ({@code connect-mirror}, dedicated mode) run in this JVM with the
 * configuration {@code lethe topics --print mirror-maker} prints for a Lethe configuration
 * ({@link KafkaResources#mirrorMakerProperties}), so what is tested is what is documented; only
 * the replication factors of MirrorMaker's own topics are lowered to 1 (one broker per cluster
 * here), topics are looked for every second and Connect's plugins are found by their ServiceLoader
 * manifests. Stopped and started again for mirror outages.
 */
public final class EmbeddedMirrorMaker implements AutoCloseable {
    private final Map<String, String> properties;
    private final List<String> targets;
    private MirrorMaker mirrorMaker;

    private EmbeddedMirrorMaker(Map<String, String> properties) {
        this.properties = Map.copyOf(properties);
        this.targets = Arrays.stream(properties.get("clusters").split(",")).map(String::trim)
                .filter(alias -> !alias.equals(KafkaResources.PRIMARY_ALIAS)).toList();
    }

    /** Starts mirroring what {@code config}'s regions with a cluster of their own read. */
    public static EmbeddedMirrorMaker start(LetheConfig config) {
        Map<String, String> p = new LinkedHashMap<>(KafkaResources.mirrorMakerProperties(config));
        if (p.isEmpty()) {
            throw new IllegalArgumentException("no region of " + config.file() + " reads a cluster of its own: nothing to mirror");
        }
        // (no offset-syncs.* setting: MirrorMaker refuses any while emit.offset-syncs.enabled is false)
        for (String setting : List.of("replication.factor", "heartbeats.topic.replication.factor", "config.storage.replication.factor",
                "offset.storage.replication.factor", "status.storage.replication.factor")) {
            p.put(setting, "1");
        }
        // Connect's own topics with one partition each (25 and 5 by default): fewer to create and read on a small machine
        p.put("offset.storage.partitions", "1");
        p.put("status.storage.partitions", "1");
        p.put("refresh.topics.interval.seconds", "1");
        p.put("tasks.max", "1");
        // a restarted MirrorMaker (a mirror outage ending) takes its tasks back at once, not after Connect's default 5 min
        // grace for a worker that left the group without saying so
        p.put("scheduled.rebalance.max.delay.ms", "0");
        // Connect finds its plugins through their ServiceLoader manifests (every one has them) instead of also scanning
        // every class of the class path by reflection (its default, hybrid_warn): 20 s a start here, once for MirrorMaker's
        // own config and once more for each target's worker, which reads only settings under its cluster alias
        p.put("plugin.discovery", "service_load");
        Arrays.stream(p.get("clusters").split(",")).map(String::trim).filter(alias -> !alias.equals(KafkaResources.PRIMARY_ALIAS))
                .forEach(alias -> p.put(alias + ".plugin.discovery", "service_load"));
        EmbeddedMirrorMaker mm = new EmbeddedMirrorMaker(p);
        mm.restart();
        return mm;
    }

    /** Stops mirroring (the targets keep what they have): a mirror outage. {@link #restart()} resumes where it stopped. */
    public synchronized void stop() {
        if (mirrorMaker == null) {
            return;
        }
        mirrorMaker.stop();
        mirrorMaker.awaitStop();
        mirrorMaker = null;
    }

    /** Starts mirroring (again): MirrorMaker resumes from the source offsets it stored on each target. */
    public synchronized void restart() {
        if (mirrorMaker != null) {
            return;
        }
        MirrorMaker m = new MirrorMaker(properties, targets);
        m.start();
        mirrorMaker = m;
    }

    /** The configuration it runs with. */
    public Map<String, String> properties() {
        return properties;
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "EmbeddedMirrorMaker[" + targets + "]"; // the properties may hold credentials
    }
}
