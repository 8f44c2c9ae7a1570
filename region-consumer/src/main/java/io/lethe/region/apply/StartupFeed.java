package io.lethe.region.apply;

import io.lethe.config.ApplyConfig;
import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.redis.RedisFailures;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.failure.KafkaFailures;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.retry.Retry;
import io.lettuce.core.RedisException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a region checks before it joins its group: whether the topic it is fed from (or the
 * namespaces it receives, or the cluster it reads) changed since its Redis recorded it
 * ({@link TopicMove}). A move waits until streams writes the new topic, then the loop starts with a
 * wholesale invalidation of the namespaces; a first feed invalidates them once streams is proven
 * to write the topic, while the loop applies as usual. Either way the marker is written last. Then
 * the LSN ceiling and the replay floor are seeded from the applied watermark the region published.
 */
final class StartupFeed {
    private static final Logger LOG = LoggerFactory.getLogger(StartupFeed.class);

    private final LetheConfig config;
    private final RegionConfig region;
    private final ApplyConfig apply;
    private final Clock clock;
    private final RegionMetrics metrics;
    private final Misconfiguration misconfiguration;
    private final RegionRedis redis;
    private final Admin admin;
    private final RestoreGuard restoreGuard;
    private final ApplyLoop loop;
    private final BrokerPartitions partitions;
    private final BooleanSupplier running;
    private final MarkerView view;
    private volatile boolean fed;
    private volatile boolean waiting; // see waiting()
    /** The topic move being handled at start-up (not ready meanwhile), or null. */
    private volatile TopicMove.Moved topicMove;

    StartupFeed(LetheConfig config, RegionConfig region, Clock clock, RegionMetrics metrics, Misconfiguration misconfiguration,
            RegionRedis redis, Admin admin, RestoreGuard restoreGuard, ApplyLoop loop, BrokerPartitions partitions,
            BooleanSupplier running, MarkerView view) {
        this.config = config;
        this.view = view;
        this.region = region;
        this.apply = config.apply();
        this.clock = clock;
        this.metrics = metrics;
        this.misconfiguration = misconfiguration;
        this.redis = redis;
        this.admin = admin;
        this.restoreGuard = restoreGuard;
        this.loop = loop;
        this.partitions = partitions;
        this.running = running;
    }

    /** True once the region's Redis is vouched for (see {@code RegionConsumerService#fed}). */
    boolean fed() {
        return fed;
    }

    /** True while the start-up check is tried again (Redis or the brokers did not answer). */
    boolean waiting() {
        return waiting;
    }

    /** True while a topic move found at start-up is being handled (the region is not ready meanwhile). */
    boolean moving() {
        return topicMove != null;
    }

    /**
     * Before joining the group: a region the configuration moved to another topic waits until
     * streams writes the new one, then starts with a wholesale invalidation of its namespaces
     * ({@link TopicMove}). Retries while Redis or the brokers do not answer; false when closed meanwhile.
     */
    boolean handleTopicMove() throws InterruptedException {
        String topic = config.topics().invalidations(region.name());
        String group = RegionApply.groupId(config, region.name());
        TopicMove.Marker marker = RedisMarker.of(redis, group);
        // the marker is read from Redis, the group's offsets from Kafka: each client's own classification says whether a
        // failure is a misconfiguration (credentials, a denied command or ACL) or a wait
        Optional<Checked> checked = Retry.of(LOG, backoff(), "region " + region.name() + ": checking whether its topic moved")
                .untilStopped()
                .onFailure((e, attempt) -> {
                    waiting = true;
                    Failure f = e instanceof RedisException ? RedisFailures.classify(e, redis.display()) : KafkaFailures.classify(e);
                    if (f.isFatal()) {
                        misconfiguration.report(f);
                    }
                })
                .whileRunning(running)
                .get(() -> {
                    // the cluster this region reads: offsets and checkpoints are positions in it, and another one (a mirror of
                    // its own, moved back, rebuilt under the same address) keeps the topic's name
                    String cluster = TopicMove.clusterId(admin);
                    TopicMove.Fed fed = ConfiguredFeed.of(config, region, cluster);
                    Optional<TopicMove.Moved> detected = TopicMove.detect(marker, admin, group, config.topics(), fed);
                    restoreGuard.cluster(cluster);
                    return new Checked(fed, detected);
                });
        waiting = false;
        if (checked.isEmpty()) {
            return false;
        }
        TopicMove.Fed now = checked.get().now();
        Optional<TopicMove.Moved> moved = checked.get().moved();
        misconfiguration.clear();
        TopicMove.Fed fedNow = now;
        if (moved.isEmpty()) {
            // no move: the marker records this feed already (or nothing); a write that fails is completed later
            loop.first().whenStarted(() -> writeMarker(marker, fedNow, Optional.of(fedNow)));
            return true;
        }
        TopicMove.Moved move = moved.get();
        List<String> invalidated = now.invalidatedFor(move, region.namespaces());
        if (move.firstFeed()) {
            firstFeed(marker, now, invalidated);
            return true;
        }
        topicMove = move;
        LOG.warn("region {}: {} (found by {}); waiting for streams to write {} as this configuration routes it, then invalidating "
                + "namespaces {} wholesale", region.name(),
                move.toAnotherTopic()
                        ? "moved from topic " + move.from() + " to " + move.to()
                        : move.toAnotherCluster()
                                ? "reads topic " + topic + " on another Kafka cluster"
                                : "receives other namespaces on " + topic,
                move.foundBy(), topic, invalidated);
        OptionalLong switchedAt = awaitStreamsWriting(topic, "");
        if (switchedAt.isEmpty() || !recordHolds(marker, now, invalidated)) {
            return false;
        }
        // at the position of the watermarks that proved the switch: older upserts a replay of the new topic brings are deletes
        loop.first().invalidateFirst("topic-move:" + move.from() + ":" + clock.millis(), switchedAt.getAsLong(), invalidated,
                move.formerGlobs(),
                () -> {
                    metrics.topicMoved();
                    if (move.toAnotherCluster()) {
                        // the checkpoint's offsets are the old cluster's: a restore must never replay from them here
                        restoreGuard.forgetForeignCheckpoint();
                    }
                    writeMarker(marker, fedNow, Optional.ofNullable(move.before()));
                    topicMove = null;
                    LOG.info("region {}: now fed from topic {} with namespaces {}; {} invalidated wholesale", region.name(), topic,
                            fedNow.receives(), invalidated);
                });
        return true;
    }

    /**
     * The proof a topic move and a first feed wait for ({@link StreamsProof}): streams
     * writes {@code topic} as this configuration routes it, from every changes partition (counted on
     * the primary), signed with the watermark key if there is one.
     *
     * @param saying what each minute's "still waiting" line starts with
     */
    private OptionalLong awaitStreamsWriting(String topic, String saying) {
        PartitionCounts counts = partitions.counts();
        IntSupplier sources = () -> counts.now().map(PartitionCounts.Counts::changes).orElse(0);
        return StreamsProof.await(() -> RegionClients.watcher(config, region.name()), topic, config.routes(topic),
                EventRules.signingKeys(config), sources,
                config.source().shardOrder(), () -> !running.getAsBoolean(),
                why -> LOG.warn("region {}: {}{}", region.name(), saying, why));
    }

    /**
     * A first feed ({@link TopicMove#NOTHING}): while the region applies as usual, a watcher waits until streams writes
     * the topic as this configuration routes it (the proof a move waits for: neither an old watermark of another
     * installation nor one of a streams on another configuration counts) and records the holds; then the loop
     * invalidates the namespaces wholesale at the highest of those positions and the marker is written. Those
     * watermarks prove capture's slot existed before: entries filled earlier go, later changes are on the topic.
     */
    private void firstFeed(TopicMove.Marker marker, TopicMove.Fed now, List<String> invalidated) {
        String topic = now.topic();
        LOG.info("region {}: its Redis records no topic (a first feed); namespaces {} are invalidated wholesale once streams writes "
                + "{} as this configuration routes it (entries filled before capture's slot existed have no invalidation)",
                region.name(), invalidated, topic);
        metrics.firstFeedPending(true);
        CompletableFuture<Long> proof = new CompletableFuture<>();
        AtomicReference<Long> proven = new AtomicReference<>();
        Thread watcher = new Thread(() -> {
            try {
                Retry.of(LOG, backoff(), "region " + region.name() + ": the first feed watching " + topic).untilStopped()
                        .onFailure((e, attempt) -> {
                            // Kafka slow or refusing (the region's own cluster at start, an ACL): waited out, never given up
                            Failure f = KafkaFailures.classify(e);
                            if (f.isFatal()) {
                                LOG.warn("region {}: the first feed cannot watch {} yet: {}", region.name(), topic, f.fix());
                            }
                        })
                        .whileRunning(running)
                        .run(() -> awaitStreamsWriting(topic, "first feed pending: ").ifPresent(proven::set));
                // the holds before the invalidation the proof hands to the loop (which applies meanwhile, in its group)
                if (proven.get() != null && recordHolds(marker, now, invalidated)) {
                    proof.complete(proven.get());
                }
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }, "lethe-region-" + region.name() + "-first-feed");
        watcher.setDaemon(true);
        watcher.start();
        loop.first().invalidateWhenProven("first-feed:" + clock.millis(), invalidated, proof, () -> {
            metrics.firstFed();
            metrics.firstFeedPending(false);
            writeMarker(marker, now, Optional.empty());
            LOG.info("region {}: first feed done: namespaces {} invalidated wholesale; now fed from topic {}", region.name(),
                    invalidated, topic);
        });
    }

    /**
     * Seeds the LSN ceiling with the highest partition LSN of the applied watermark this region
     * published in its Redis (written only by its own verified script), when there is one: without
     * it the ceiling holds only once the first heartbeat of this run arrived.
     */
    void seedLsnCeiling() {
        ReplayFloor floor = new ReplayFloor(partitions.changes());
        loop.judgeReplaysBy(floor);
        try {
            Map<String, String> published = redis.hashCommands().hgetall(AppliedLsn.key(RegionApply.groupId(config, region.name())));
            AppliedLsn.highest(published).ifPresent(loop::seedLsnCeiling);
            floor.seed(published);
        } catch (RuntimeException e) {
            LOG.debug("region {}: no applied watermark to seed the LSN ceiling and the replay floor with ({}); they hold from the "
                    + "first heartbeats", region.name(), e.toString());
        }
    }

    /**
     * Records what the namespaces received now hold ({@link TopicMove.Marker#recordHolds}) before a move's or first feed's
     * wholesale invalidation goes to the loop (a reader's miss that read the old record read the epoch it moves). Tried
     * again while Redis does not answer; false when closed meanwhile: then no invalidation (the old record would let
     * old-file readers fill after the scan).
     */
    private boolean recordHolds(TopicMove.Marker marker, TopicMove.Fed now, List<String> invalidated) throws InterruptedException {
        try {
            return Retry.of(LOG, backoff(), "region " + region.name() + ": recording what namespaces " + now.receives() + " hold")
                    .untilStopped()
                    .onFailure((e, attempt) -> waiting = true)
                    .whileRunning(running)
                    .get(() -> {
                        marker.recordHolds(now, invalidated);
                        return Boolean.TRUE;
                    }).isPresent();
        } finally {
            waiting = false;
        }
    }

    /**
     * Records {@code fed} as the marker, and makes it this instance's view at once, written or not:
     * {@code basis} is the marker this instance decided on (what a move found, none for a first feed),
     * so a write that failed is completed by {@link MarkerView} while the marker still records the basis,
     * and a marker another instance wrote since makes this one hold.
     */
    private void writeMarker(TopicMove.Marker marker, TopicMove.Fed fed, Optional<TopicMove.Fed> basis) {
        this.fed = true;
        view.decided(fed, basis);
        try {
            // not written: the next start finds the move again (a second wholesale invalidation, never a stale entry)
            Retry.of(LOG, backoff(), "region " + region.name() + ": recording topic " + fed.topic() + " in Redis")
                    .whileRunning(running)
                    .atMost(5, "a restart will invalidate wholesale again")
                    .run(() -> {
                        marker.write(fed);
                        view.written(); // from now on compared with the marker (another instance's start may change it)
                    });
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }

    private Backoff backoff() {
        return new Backoff(apply.retryBackoffMin(), apply.retryBackoffMax());
    }

    /** What {@link #handleTopicMove} found: what the region is fed now, and the move since its Redis was fed, if any. */
    private record Checked(TopicMove.Fed now, Optional<TopicMove.Moved> moved) {
    }
}
