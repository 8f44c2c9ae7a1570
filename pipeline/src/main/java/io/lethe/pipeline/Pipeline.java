package io.lethe.pipeline;

import io.lethe.capture.CaptureService;
import io.lethe.capture.topics.DebeziumTopicsSource;
import io.lethe.config.LetheConfig;
import io.lethe.region.RegionConsumerService;
import io.lethe.streams.StreamsService;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stages one process runs, started consumers-first (so nothing produced waits for a
 * consumer that is not there) and stopped capture-first (so nothing new enters while the rest
 * drains).
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private final LetheConfig config;
    private final Roles roles;
    private final Map<String, RegionConsumerService> regions = new LinkedHashMap<>();
    private StreamsService streams;
    private CaptureService capture;
    /** With source.shards: each capture shard's capture running here, by shard name ({@link #capture} is the first). */
    private final Map<String, CaptureService> captures = new LinkedHashMap<>();
    private DebeziumTopicsSource topicsSource;

    private Pipeline(LetheConfig config, Roles roles) {
        this.config = config;
        this.roles = roles;
    }

    public static Pipeline start(LetheConfig config, Roles roles, MeterRegistry registry, Clock clock) throws InterruptedException {
        return start(config, roles, registry, clock, io.lethe.stage.trace.Tracing.OFF);
    }

    /** As above, every stage tracing sampled changes with {@code tracing} (tracing.* of lethe.yml). */
    public static Pipeline start(LetheConfig config, Roles roles, MeterRegistry registry, Clock clock, io.lethe.stage.trace.Tracing tracing)
            throws InterruptedException {
        Pipeline p = new Pipeline(config, roles);
        io.lethe.stage.faults.FaultInjection.announce(registry);
        try {
            for (String region : roles.regions()) {
                RegionConsumerService consumer = new RegionConsumerService(config, region, registry, clock).tracing(tracing);
                p.regions.put(region, consumer);
                consumer.start();
            }
            if (roles.streams()) {
                p.streams = new StreamsService(config, registry, clock, UUID.randomUUID().toString().substring(0, 8)).tracing(tracing);
                p.streams.start();
            }
            if (roles.capture() && config.source().readsDebeziumTopics()) {
                // no capture of Lethe's own: the existing connector's topics are translated into the changes topic
                p.topicsSource = new DebeziumTopicsSource(config, registry, clock).tracing(tracing);
                p.topicsSource.start();
            } else if (roles.capture() && config.source().sharded()) {
                // one capture per shard: its own slot, publication, heartbeat row, offsets and capture lock
                for (String shard : roles.shardsOf(config)) {
                    CaptureService c = new CaptureService(config.forShard(shard), registry, clock).tracing(tracing);
                    p.captures.put(shard, c);
                    p.capture = p.capture == null ? c : p.capture;
                    c.start();
                }
            } else if (roles.capture()) {
                p.capture = new CaptureService(config, registry, clock).tracing(tracing);
                p.capture.start();
            }
            LOG.info("pipeline running: {}", roles);
            return p;
        } catch (RuntimeException | InterruptedException e) {
            p.close();
            throw e;
        }
    }

    public Roles roles() {
        return roles;
    }

    public LetheConfig config() {
        return config;
    }

    public Map<String, RegionConsumerService> regions() {
        return regions;
    }

    /**
     * True once every region of this process is past its first feed (its Redis invalidated wholesale
     * once streams was proven to write its topic), or is held back by its replica gate, a
     * misconfiguration or a stop: what a caller that plants entries or starts readers waits for.
     */
    public boolean firstFeedsSettled() {
        return regions.values().stream().allMatch(r -> r.fed() || r.isRetrying() || !r.isRunning());
    }

    public CaptureService capture() {
        return capture;
    }

    /** With source.shards, each capture shard's capture running here by name; empty otherwise. */
    public Map<String, CaptureService> captures() {
        return java.util.Collections.unmodifiableMap(captures);
    }

    /** The translator of an existing Debezium connector's topics (source.mode debezium-topics); null otherwise. */
    public DebeziumTopicsSource topicsSource() {
        return topicsSource;
    }

    public StreamsService streams() {
        return streams;
    }

    /** Component name to healthy, for /health. */
    public Map<String, Boolean> health() {
        Map<String, Boolean> health = new LinkedHashMap<>();
        // a standby is healthy while it waits: it does what it is there for (unless a session that is
        // not Lethe's holds the capture lock); a capture whose source hides changes it needs (a table
        // out of the publication, ...) is not
        runningCaptures().forEach((name, c) -> health.put(name, c.isStreaming() && c.hiddenBySource().isEmpty()
                || c.isStandingBy() && c.misconfigured().isEmpty()));
        if (topicsSource != null) {
            health.put("capture", topicsSource.isRunning() && topicsSource.misconfigured().isEmpty() && !topicsSource.tablesHideChanges());
        }
        if (streams != null) {
            health.put("streams", streams.isHealthy());
        }
        regions.forEach((name, consumer) -> health.put("region:" + name, consumer.isRunning() && !consumer.isRetrying()));
        return health;
    }

    /**
     * The components that stopped by themselves (not by close), named as in {@link #health()}
     * ({@code capture} or {@code capture:<shard>}, {@code region:<name>}); empty while all run. What {@code /health/live}
     * shows: the reasons, with their exception messages, are for the log and the console
     * ({@link #failures()}), not for whoever can reach the HTTP port.
     */
    public List<String> stopped() {
        List<String> stopped = new ArrayList<>();
        runningCaptures().forEach((name, c) -> {
            if (c.isStopped()) {
                stopped.add(name);
            }
        });
        if (topicsSource != null && topicsSource.isStopped()) {
            stopped.add("capture");
        }
        regions.forEach((name, consumer) -> {
            if (!consumer.isRunning()) {
                stopped.add("region:" + name);
            }
        });
        return stopped;
    }

    /** A stage that stopped by itself (not by close), with why; empty while all run. */
    public List<String> failures() {
        List<String> failures = new ArrayList<>();
        runningCaptures().forEach((name, c) -> {
            if (c.isStopped()) {
                failures.add(name + " stopped: " + c.failure().map(Throwable::getMessage).orElse("engine ended"));
            }
        });
        if (topicsSource != null && topicsSource.isStopped()) {
            failures.add("capture (debezium-topics) stopped: " + topicsSource.failure().map(Throwable::getMessage).orElse("loop ended"));
        }
        regions.forEach((name, consumer) -> {
            if (!consumer.isRunning()) {
                failures.add("region " + name + " stopped: " + (consumer.failure() == null ? "loop ended" : consumer.failure()));
            }
        });
        return failures;
    }

    /** The captures running here, named as in {@link #health()}: {@code capture}, or {@code capture:<shard>} for each shard. */
    private Map<String, CaptureService> runningCaptures() {
        Map<String, CaptureService> out = new LinkedHashMap<>();
        if (!captures.isEmpty()) {
            captures.forEach((shard, c) -> out.put("capture:" + shard, c));
        } else if (capture != null) {
            out.put("capture", capture);
        }
        return out;
    }

    @Override
    public void close() {
        runningCaptures().values().forEach(CaptureService::close);
        if (topicsSource != null) {
            topicsSource.close();
        }
        if (streams != null) {
            streams.close();
        }
        regions.values().forEach(RegionConsumerService::close);
    }
}
