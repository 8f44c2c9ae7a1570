package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a poll batch as if it came from outside ({@link EventRules}, issue 34 "trust no topic"):
 * a record that is malformed or that the rules refuse is dead-lettered with its reason and not
 * applied; a watermark record is merged only when its headers are complete and, with
 * {@code streams.watermark-key} set, its signature verifies; with that key, an upsert is
 * applied only when its record's signature verifies too ({@code untrusted-record}), and a delete
 * without a valid signature is applied and counted ({@code lethe.region.unsigned.deletes}): it can
 * only cost misses, and refusing it would leave the entry it was sent to remove. The highest LSN of a merged watermark
 * bounds the LSNs of what follows ({@code apply.max-lsn-lead-mib}), within its source history
 * ({@link LsnCeiling}: lifted by a reset that deletes whatever is there); the watermarks a partition
 * delivered bound from below the upserts it may still bring ({@link ReplayFloor}): an admitted
 * upsert at or below that floor (a redelivery, or an old signed record copied back into the topic)
 * is applied as the delete at its version and counted ({@code lethe.region.replayed.upserts}); so is
 * an upsert read while its partition has no floor yet ({@code lethe.region.unproven.upserts{reason=no-floor}}).
 * An admitted upsert whose {@code lethe.holds} stamp is missing or not this configuration's for its
 * namespace ({@link HoldsStamp}: rendered by a streams on another file or an older release) is applied
 * as the delete at its version and dead-lettered as {@code foreign-holds}, after the signature is
 * checked (an unsigned upsert stays refused, never turned into a delete).
 */
final class Admission {
    private final EventRules rules;
    /** What each namespace's upserts must be stamped with to be applied as upserts ({@code foreign-holds} otherwise). */
    private final HoldsStamp holds;
    /**
     * What the LSN ceiling is measured from: the highest LSN of a watermark merged, per source history
     * ({@link LsnCeiling}); seeded at start-up from the applied watermark the region published in its
     * Redis ({@link #seed}), so the ceiling holds from the first record after a restart, not only after
     * the first heartbeat.
     */
    private final LsnCeiling ceiling = new LsnCeiling();

    /** Raises the reference of the LSN ceiling to {@code lsn}, a watermark this region applied before. */
    void seed(long lsn) {
        ceiling.seed(lsn);
    }

    Admission(Map<String, NamespaceConfig> namespaces, String configFile, long maxLsnLead, SigningKeys keys) {
        this.rules = new EventRules(namespaces, configFile, maxLsnLead);
        this.holds = new HoldsStamp(namespaces, configFile);
        this.keys = keys;
    }

    /**
     * Verifies every record's and watermark's signature with {@code streams.watermark-key} or, during
     * a rotation, {@code streams.previous-watermark-key} (docs/security.md), or null without a key.
     */
    private final SigningKeys keys;

    /** Told of every delete applied although its signature did not verify (see {@link #admit}). */
    private Runnable unsignedDelete = () -> {
    };

    /** Why a record refused is held (the region's consumer group runs another configuration), if it is ({@link MarkerView}). */
    private Function<EventRules.Refusal, Optional<String>> holdOnSkew = r -> Optional.empty();

    void holdOnSkew(Function<EventRules.Refusal, Optional<String>> check) {
        this.holdOnSkew = check;
    }

    /** How far each partition is known to have come: upserts at or below it are applied as deletes. */
    private ReplayFloor replayFloor = new ReplayFloor(() -> 0);

    /** Told of every upsert applied as a delete because the floor had passed it, with the record it came from. */
    private Consumer<ConsumerRecord<String, byte[]>> replayedUpsert = r -> {
    };

    /** Told of every upsert applied as a delete because its partition had no floor yet, with the record it came from. */
    private Consumer<ConsumerRecord<String, byte[]>> noFloorUpsert = r -> {
    };

    /**
     * Judges upserts against {@code floor} (seeded and counted by the caller), telling {@code replayed}
     * of each at or below it and {@code noFloor} of each read while its partition has no floor.
     */
    void replayFloor(ReplayFloor floor, Consumer<ConsumerRecord<String, byte[]>> replayed,
            Consumer<ConsumerRecord<String, byte[]>> noFloor) {
        this.replayFloor = floor;
        this.replayedUpsert = replayed;
        this.noFloorUpsert = noFloor;
    }

    Admission(LetheConfig config) {
        this(config.namespaces(), config.file(), config.apply().maxLsnLead(), EventRules.signingKeys(config));
        this.shardOrder = config.source().shardOrder();
    }

    /**
     * The capture shards in channel order ({@code SourceConfig#shardOrder}, as
     * {@code LetheConfig#watermarkChannel} numbers them): streams forwards each watermark with its
     * changes partition and its shard, and the channel is numbered here, under this
     * configuration's shard set, so a streams instance with another shard set (while a shard is
     * added or removed and the stages restart one by one) cannot make one shard's watermark stand
     * for another's or for another partition's; a shard this configuration lacks is not merged.
     */
    private List<String> shardOrder = List.of("");

    Admission(LetheConfig config, Runnable unsignedDelete) {
        this(config);
        this.unsignedDelete = unsignedDelete;
    }

    /**
     * A poll batch, admitted.
     *
     * @param events  the invalidations to apply
     * @param origins the record each came from (for dead letters)
     * @param offsets    every partition's next offset, refused records included
     * @param watermarks the watermarks read, by partition (applied once the batch is)
     */
    record Admitted(List<InvalidationEvent> events, Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins,
            Map<TopicPartition, OffsetAndMetadata> offsets, Map<Integer, List<Watermark>> watermarks) {
    }

    /** Reads a poll batch; a malformed or refused record is dead-lettered (its offset still moves on). */
    Admitted admit(ConsumerRecords<String, byte[]> records, RegionDeadLetters deadLetters) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        List<InvalidationEvent> events = new ArrayList<>(records.count());
        Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins = new IdentityHashMap<>();
        Map<Integer, List<Watermark>> watermarks = new HashMap<>();
        // whether this batch's refusals were already compared with the region's marker: once a batch (a read of the
        // marker each refused record would let a flood of them, forged or another configuration's, load Redis)
        boolean skewRuledOut = false;
        for (ConsumerRecord<String, byte[]> r : records) {
            offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
            if (Watermark.isWatermark(r.key())) {
                Optional<EventRules.Refusal> refused = EventRules.watermarkRefusal(r.headers(), keys);
                if (refused.isPresent()) {
                    deadLetters.send(r, refused.get().reason(), refused.get().message(), null);
                    continue;
                }
                Watermark forwarded = Watermark.read(r.headers()).orElseThrow();
                int channel = LetheConfig.watermarkChannel(shardOrder, forwarded.shard(), forwarded.source());
                if (channel < 0) {
                    // a shard this configuration does not have (a shard set changing, stages restarting one by one): not
                    // merged, so it vouches for nothing here
                    continue;
                }
                Watermark w = forwarded.from(channel); // streams forwards the changes partition: the channel is numbered here
                ceiling.watermark(w);
                replayFloor.seen(r.partition(), w);
                watermarks.computeIfAbsent(r.partition(), p -> new ArrayList<>()).add(w);
                continue;
            }
            InvalidationEvent event;
            try {
                event = EventJson.readInvalidation(r.value());
            } catch (SchemaViolationException e) {
                deadLetters.send(r, DlqReason.MALFORMED, e.getMessage(), e);
                continue;
            }
            boolean signed = keys != null && keys.verifies(r.headers(), r.key(), r.value());
            if (signed && EventRules.deletesWhateverIsThere(event)) {
                // perhaps capture's reset after the source's history changed, at a position of the new history, which the old
                // one's watermarks say nothing of (signed: nobody without the key lifts the ceiling)
                ceiling.lift(event.lsn());
            }
            // a manual purge's LSN is its publisher's choice (streams signs what any application requests): a lift
            // never frees it from the ceiling
            Optional<EventRules.Refusal> refusal = rules.refusal(event, ceiling.reference(signed && event.op() != Op.MANUAL));
            if (refusal.isEmpty()) {
                // last: a record that breaks a rule is refused with that rule's reason, signed or not
                // (verified once above: only a record that did not verify is checked again, for its refusal's message)
                refusal = signed ? Optional.empty() : EventRules.signatureRefusal(r.headers(), r.key(), r.value(), keys);
                if (refusal.isPresent() && event.action() == Action.DELETE) {
                    // a delete within the rules can only cost misses, never leave a stale value: applied, and counted
                    // (an invalidation published without the key, e.g. by an application whose lethe.yml lacks
                    // streams.watermark-key, or still in the backlog when the key was introduced). An upsert is refused.
                    unsignedDelete.run();
                    refusal = Optional.empty();
                }
            }
            if (refusal.isPresent()) {
                skewRuledOut = ruleOutSkew(refusal.get(), skewRuledOut);
                deadLetters.send(r, refusal.get().reason(), refusal.get().message(), null);
                continue;
            }
            Optional<EventRules.Refusal> foreign = holds.refusal(event, r.headers());
            if (foreign.isPresent()) {
                // rendered under another configuration's rules for its namespace (HoldsStamp): at most the delete at its version
                skewRuledOut = ruleOutSkew(foreign.get(), skewRuledOut);
                deadLetters.send(r, foreign.get().reason(), foreign.get().message(), null);
                event = event.asDelete();
            }
            ReplayFloor.Verdict verdict = replayFloor.judge(event, r.partition());
            if (verdict == ReplayFloor.Verdict.REPLAYED) {
                // signed or not, an upsert of a change this partition carried before: at most a delete
                event = event.asDelete();
                replayedUpsert.accept(r);
            } else if (verdict == ReplayFloor.Verdict.NO_FLOOR) {
                // nothing yet tells a new change from a copy on this partition: at most a delete, until its heartbeats come
                event = event.asDelete();
                noFloorUpsert.accept(r);
            }
            events.add(event);
            origins.put(event, r);
        }
        return new Admitted(events, origins, offsets, watermarks);
    }

    /**
     * Compares this instance's view with the region's marker for {@code refusal} when a configuration skew
     * may explain it and the batch has not ruled one out yet: throws {@link MarkerView.Held} (the batch is held,
     * never committed past) when they differ. Returns whether a skew is ruled out for the rest of the batch.
     */
    private boolean ruleOutSkew(EventRules.Refusal refusal, boolean skewRuledOut) {
        if (skewRuledOut || !MarkerView.SKEW_REASONS.contains(refusal.reason())) {
            return skewRuledOut;
        }
        Optional<String> skew = holdOnSkew.apply(refusal);
        if (skew.isPresent()) {
            throw new MarkerView.Held(skew.get()); // another configuration's record: held, never committed past
        }
        return true;
    }

    /** Why {@code e} is refused by the rules, judged as an unsigned record. */
    Optional<EventRules.Refusal> refusal(InvalidationEvent e) {
        return rules.refusal(e, ceiling.reference(false));
    }
}
