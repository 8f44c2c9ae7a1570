package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.redis.RedisFailures;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.faults.FaultInjection;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.retry.Retry;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.NoOffsetForPartitionException;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes good what the region's Redis or Kafka lost: a Redis that came back without applied
 * writes (see {@link RestoreGuard}) is replayed from its data's checkpoint and at least the
 * longest fence TTL back, or invalidated wholesale when its position is unknown; records deleted
 * by retention before the region applied them are covered by a wholesale invalidation.
 */
final class RestoreReplay {
    private static final Logger LOG = LoggerFactory.getLogger(RestoreReplay.class);
    /** Beyond the longest fence TTL: how far back an empty or restored Redis is replayed at least. */
    private static final Duration MARGIN = Duration.ofSeconds(10);

    private final LetheConfig config;
    private final RegionConfig region;
    private final Consumer<?, ?> consumer;
    private final OffsetLedger ledger;
    private final RestoreGuard guard;
    private final RegionMetrics metrics;
    private final Clock clock;
    private final Backoff backoff;
    private final WholesaleEvents wholesale;
    private final MarkerView view;
    private long lastRefusalLogged = System.nanoTime() - TimeUnit.MINUTES.toNanos(2);

    public RestoreReplay(LetheConfig config, RegionConfig region, Consumer<?, ?> consumer, OffsetLedger ledger, RestoreGuard guard,
            RegionMetrics metrics, Clock clock, MarkerView view) {
        this.config = config;
        this.view = view;
        this.region = region;
        this.consumer = consumer;
        this.ledger = ledger;
        this.guard = guard;
        this.metrics = metrics;
        this.clock = clock;
        this.wholesale = new WholesaleEvents(config, region, clock);
        this.backoff = new Backoff(config.apply().retryBackoffMin(), config.apply().retryBackoffMax());
    }

    /**
     * When the region's Redis came back without writes Lethe had applied to an assigned partition
     * (checked on every assignment and once a second, see {@link RestoreGuard#check}): seeks each
     * such partition back to the restored checkpoint and at least the longest fence TTL (never
     * forward), commits that position first (a crash then replays from it), invalidates the
     * namespaces wholesale when the data's position is unknown, and only then writes that position
     * as the partitions' checkpoint in the server answering now.
     *
     * @return the partitions sought back: records of them fetched before are not to be applied
     */
    public Set<TopicPartition> check(Applying applying) throws InterruptedException {
        Set<TopicPartition> assigned = new HashSet<>(consumer.assignment());
        Set<Integer> partitions = new HashSet<>();
        assigned.forEach(tp -> partitions.add(tp.partition()));
        Optional<Restore> found;
        try {
            found = guard.check(partitions, () -> consumer.committed(assigned, Duration.ofSeconds(10)).values().stream()
                    .anyMatch(Objects::nonNull));
        } catch (WakeupException e) {
            throw e;
        } catch (RuntimeException e) {
            Failure f = RedisFailures.classify(e, "the region's Redis");
            if (f.isFatal()) {
                // a refused command (an ACL without one the guard needs) is no outage the apply path would report: without
                // the guard, no checkpoint and no applied watermark are written, and a restored Redis is not replayed
                metrics.retry(f.reason());
                if (System.nanoTime() - lastRefusalLogged > TimeUnit.MINUTES.toNanos(1)) {
                    lastRefusalLogged = System.nanoTime();
                    LOG.error("region {}: cannot compare Redis with its checkpoint: {} ({}); no checkpoint or applied watermark is "
                            + "written until it is fixed", region.name(), f.message(), e.toString());
                }
            } else {
                LOG.debug("region {}: cannot compare Redis with its checkpoint yet ({}); checking again", region.name(), e.toString());
            }
            return Set.of(); // Redis does not answer: the apply path retries and reports it; nothing is verified meanwhile
        }
        if (found.isEmpty()) {
            return Set.of();
        }
        Restore restore = found.get();
        if (FaultInjection.off(FaultInjection.RESTORE_REPLAY, guard.group())) {
            acceptAsItIs(restore, assigned);
            return Set.of();
        }
        Set<TopicPartition> stale = new HashSet<>();
        assigned.stream().filter(tp -> restore.partitions().contains(tp.partition())).forEach(stale::add);
        long since = clock.millis() - replayWindow().toMillis();
        Map<TopicPartition, Long> times = new HashMap<>();
        stale.forEach(tp -> times.put(tp, since));
        Map<TopicPartition, OffsetAndTimestamp> byTime;
        Map<TopicPartition, Long> ends;
        Map<TopicPartition, Long> positions = new HashMap<>();
        try {
            byTime = consumer.offsetsForTimes(times);
            ends = consumer.endOffsets(stale);
            for (TopicPartition tp : stale) {
                try {
                    positions.put(tp, consumer.position(tp, Duration.ofSeconds(10)));
                } catch (NoOffsetForPartitionException e) {
                    // never committed: it is read from the log's start anyway
                }
            }
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("region {}: Redis lost applied writes, but Kafka cannot say where to replay from yet ({}); retrying",
                    region.name(), e.toString());
            return Set.of(); // nothing written: the next check finds the same restore
        }
        Map<TopicPartition, OffsetAndMetadata> rewound = new HashMap<>();
        Map<Integer, Long> targets = new HashMap<>();
        for (TopicPartition tp : stale) {
            OffsetAndTimestamp atTime = byTime.get(tp);
            long target = atTime != null ? atTime.offset() : ends.getOrDefault(tp, 0L);
            Long restored = restore.checkpoint().get(tp.partition());
            if (restored != null) {
                target = Math.min(target, restored);
            }
            Long position = positions.get(tp);
            if (position != null) {
                target = Math.min(target, position); // never skip what was not read yet
            }
            rewound.put(tp, new OffsetAndMetadata(target));
            targets.put(tp.partition(), target);
        }
        String action = restore.wholesale()
                ? "wholesale"
                : restore.checkpoint().isEmpty() ? "replayed-fence-window" : "replayed-checkpoint";
        LOG.error("region {}: Redis is not the server Lethe last applied to ({}; {} keys, checkpoint {}): it lost applied writes; "
                + "replaying from {}{}", region.name(), restore.nodes(), restore.keys(), restore.checkpoint(), rewound,
                restore.wholesale() ? " and invalidating namespaces " + region.namespaces() + " wholesale" : "");
        rewound.forEach((tp, om) -> {
            consumer.seek(tp, om);
            ledger.forget(tp);
        });
        metrics.watermarks().reset(); // nothing is known applied in this data until the replay brings heartbeats
        commitRewound(rewound);
        if (restore.wholesale() && applying.apply(BatchPlan.of(wholesale.all("restore:" + restore.id()))) == null
                || !view.invalidateRestored(restore.id(), wholesale, applying)) {
            return stale; // closing (or the holds not recorded yet): the next check or start finds the same restore
        }
        try {
            guard.replayed(restore, targets);
        } catch (RuntimeException e) {
            LOG.debug("region {}: the replay position is not in Redis yet ({}); the next check replays again", region.name(), e.toString());
        }
        metrics.redisRestored(action);
        return stale;
    }

    /**
     * The fault-injection knob {@link FaultInjection#RESTORE_REPLAY} (tests only): the restored
     * server is taken as it is, as by a consumer without this guard. Its checkpoint is written at
     * the consumer's current positions (so the guard counts it verified and the applied watermark
     * is published again) and nothing is rewound or invalidated: what the snapshot brought back stays.
     */
    private void acceptAsItIs(Restore restore, Set<TopicPartition> assigned) {
        Map<Integer, Long> positions = new HashMap<>();
        for (TopicPartition tp : assigned) {
            if (restore.partitions().contains(tp.partition())) {
                try {
                    positions.put(tp.partition(), consumer.position(tp, Duration.ofSeconds(10)));
                } catch (KafkaException e) {
                    // no position yet: the checkpoint names the partition without one
                }
            }
        }
        LOG.error("region {}: Redis is not the server Lethe last applied to ({}), and the restore replay is switched off by fault "
                + "injection: taking it as it is at {}", region.name(), restore.nodes(), positions);
        guard.replayed(restore, positions);
    }

    /** This instance's view of its feed against the marker in the region's Redis. */
    MarkerView view() {
        return view;
    }

    /** True when a checkpoint write was refused (another server answers): check now, not in a second. */
    public boolean recheckWanted() {
        return guard.recheckWanted();
    }

    private void commitRewound(Map<TopicPartition, OffsetAndMetadata> rewound) throws InterruptedException {
        Retry.of(LOG, backoff, "region " + region.name() + ": committing the rewound offsets " + rewound).untilStopped()
                .onFailure(KafkaException.class, (e, attempt) -> metrics.retry("commit"))
                .passing(WakeupException.class)
                .run(() -> consumer.commitSync(rewound, Duration.ofSeconds(10)));
    }

    /**
     * Reads {@code partitions} from their log's start. When records this region never applied
     * are gone (its offset fell below the log start, or it never read a log retention already
     * cut), the region's namespaces are invalidated wholesale first. A first start on a log that
     * still holds everything replays it all instead.
     */
    public void startFromLogStart(Collection<TopicPartition> partitions, boolean outOfRange, Applying applying)
            throws InterruptedException {
        Map<TopicPartition, Long> starts;
        try {
            starts = consumer.beginningOffsets(partitions);
        } catch (KafkaException e) {
            // the partitions keep no position: the next poll raises the same and this runs again
            LOG.warn("region {}: cannot read the log start of {} yet ({}); retrying", region.name(), partitions, e.toString());
            return;
        }
        boolean lost = outOfRange || starts.values().stream().anyMatch(start -> start > 0);
        consumer.seekToBeginning(partitions);
        if (!lost) {
            return;
        }
        if (!outOfRange && coveredByMove.containsAll(partitions)) {
            // the topic this region moved to, never read by its group, at the first assignment after the move: what its log
            // no longer holds is older than the move's wholesale invalidation of every namespace, which covered it
            coveredByMove.removeAll(partitions);
            LOG.info("region {}: reading {} from the log's start; the topic move's wholesale invalidation covers what it no longer holds",
                    region.name(), partitions);
            return;
        }
        LOG.error("region {}: records of {} were deleted before this region applied them (its offset {} the log, which now starts at {}); "
                + "invalidating namespaces {} wholesale and reading from the log's start", region.name(), partitions,
                outOfRange ? "is outside" : "was never committed for", starts, region.namespaces());
        if (applying.apply(BatchPlan.of(wholesale.all("offsets-lost:" + clock.millis()))) != null) {
            metrics.offsetsLost(partitions.size());
        }
    }

    /**
     * The partitions of the region's topic when a topic move invalidated every namespace of the
     * region wholesale: until each is first read from its log's start, what its log no longer
     * holds is older than that invalidation. Not those of a move that invalidated some namespaces
     * only, nor partitions added later.
     */
    private final Set<TopicPartition> coveredByMove = new HashSet<>();

    /**
     * Invalidates {@code namespaces} wholesale at source position {@code lsn} (a topic move, {@link TopicMove}).
     *
     * @return false when the region closed before Redis acknowledged it
     */
    public boolean invalidateWholesale(String why, long lsn, List<String> namespaces, Map<String, List<String>> formerGlobs,
            Applying applying) throws InterruptedException {
        String topic = config.topics().invalidations(region.name());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition()))
                .toList();
        if (!invalidateWholesaleNow(why, lsn, namespaces, formerGlobs, applying)) {
            return false;
        }
        if (namespaces.containsAll(region.namespaces())) {
            coveredByMove.addAll(partitions);
        }
        return true;
    }

    /**
     * As {@link #invalidateWholesale} without covering the log's start: for a first feed, made while
     * the region reads, after partitions were first read (or not yet: those are judged as usual).
     */
    public boolean invalidateWholesaleNow(String why, long lsn, List<String> namespaces, Map<String, List<String>> formerGlobs,
            Applying applying) throws InterruptedException {
        return applying.apply(BatchPlan.of(wholesale.of(why, lsn, namespaces, formerGlobs))) != null;
    }

    /** The longest fence TTL of the region's namespaces, plus a margin. */
    private Duration replayWindow() {
        return region.namespaces().stream().map(ns -> config.namespaces().get(ns).fenceTtl())
                .max(Duration::compareTo).orElse(Duration.ZERO).plus(MARGIN);
    }
}
