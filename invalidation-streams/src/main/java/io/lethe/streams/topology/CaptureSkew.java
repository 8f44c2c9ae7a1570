package io.lethe.streams.topology;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Watermark;
import io.lethe.streams.metrics.StreamsMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What streams does with the records of a capture that runs another configuration than its own
 * (a rollout, a capture never restarted), told by {@link Watermark#CAPTURES}: its watermarks are
 * held ({@link #admit}), its resets widened ({@link #widen}).
 *
 * <p>Whether a capture's watermark may go on to the regions. A watermark tells a region that every
 * change before it was published; only the capture that wrote it can say that, and only of the
 * tables it captures. So streams forwards it only when its own configuration has the watermark's
 * shard (a shard removed, or a capture configured with shards streams does not have, holds) and
 * expects that shard's capture to capture exactly the tables it says it captures
 * ({@link Watermark#CAPTURES}, {@link LetheConfig#captures()}): a capture still on a file without a
 * namespace's table, during a rollout or never restarted, publishes none of that table's changes,
 * and its watermarks would let every region claim them applied (read-your-writes reads served
 * from the cache, lag healthy). Held watermarks age the regions' watermarks, which the lag alerts
 * watch; each hold is counted ({@link StreamsMetrics#WATERMARKS_HELD}) and said once a minute. A
 * watermark without the header (a capture of a version before it) is forwarded as before.
 */
final class CaptureSkew {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureSkew.class);
    private static final Duration SAY_EVERY = Duration.ofMinutes(1);

    private final LetheConfig config;
    private final StreamsMetrics metrics;
    private final Clock clock;
    private final Map<String, String> expected = new HashMap<>();
    private final Map<String, Long> saidAt = new HashMap<>();

    CaptureSkew(LetheConfig config, StreamsMetrics metrics, Clock clock) {
        this.config = config;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * The watermark's channel (one per capture shard and changes partition,
     * {@link LetheConfig#watermarkChannel}), or empty when it must not be forwarded.
     */
    Optional<Integer> admit(Watermark watermark, Headers headers, int partition) {
        String shard = watermark.shard() == null ? "" : watermark.shard();
        int channel = config.watermarkChannel(watermark.shard(), partition);
        if (channel < 0) {
            hold("unknown-shard", "a watermark of capture shard '" + shard + "' on changes partition " + partition
                    + ", which this configuration does not have (shards: " + config.source().shards().keySet() + "); not forwarded");
            return Optional.empty();
        }
        Optional<String> captures = Watermark.captures(headers);
        String wanted = expected.computeIfAbsent(shard, config::capturesOf);
        if (captures.isPresent() && !captures.get().equals(wanted)) {
            hold("capture-tables", "a watermark of " + (shard.isEmpty() ? "capture" : "capture shard '" + shard + "'")
                    + " on changes partition " + partition + " from a capture that captures other tables (" + captures.get()
                    + ") than this configuration expects of it (" + wanted + ", tables " + tables(shard)
                    + "): not forwarded until capture runs the same tables (roll lethe.yml out to capture too); the regions' "
                    + "watermarks hold meanwhile");
            return Optional.empty();
        }
        return Optional.of(channel);
    }

    /**
     * The changes to map for a reset (the reset itself first): a reset names the namespaces capture
     * knows of its table, so when the capture that wrote it runs another configuration ({@link
     * Watermark#CAPTURES} differs from what streams expects of the table's shard), every other
     * namespace of that table in streams' configuration is reset too (a namespace added over a
     * table capture already captured would otherwise keep entries a drift, a lost slot or a
     * transaction too large to hold left stale). Counted as a widening of each namespace added.
     */
    List<ChangeEvent> widen(ChangeEvent reset, Headers headers) {
        Optional<String> captures = Watermark.captures(headers);
        String table = reset.source().qualifiedName();
        if (captures.isEmpty() || captures.get().equals(expected.computeIfAbsent(config.shardOf(table), config::capturesOf))) {
            return List.of(reset);
        }
        List<ChangeEvent> out = new ArrayList<>(List.of(reset));
        for (NamespaceConfig ns : config.namespacesForTable(table)) {
            if (!ns.name().equals(reset.namespace())) {
                out.add(reset.forNamespace(ns.name()));
                metrics.widened(ns.name(), "capture-configuration");
            }
        }
        if (out.size() > 1) {
            say("capture-configuration", "a reset of namespace " + reset.namespace() + " (" + table + ") from a capture on another "
                    + "configuration (" + captures.get() + "): namespaces " + out.stream().skip(1).map(ChangeEvent::namespace).toList()
                    + " of the same table reset too (roll lethe.yml out to capture too)");
        }
        return out;
    }

    private String tables(String shard) {
        return (shard.isEmpty() ? config : config.forShard(shard)).tables().toString();
    }

    private void hold(String reason, String why) {
        metrics.watermarkHeld(reason);
        say(reason, why);
    }

    private void say(String reason, String why) {
        long now = clock.millis();
        Long last = saidAt.get(reason);
        if (last == null || now - last >= SAY_EVERY.toMillis()) {
            saidAt.put(reason, now);
            LOG.warn("{}", why);
        }
    }
}
