package io.lethe.region.apply;

import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Versions;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.KeyValue;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

/** The staleness prober's judgement of one sample: is the key coherent in the region's Redis now? */
final class CoherenceCheck {
    private final RegionRedis redis;
    /** The region's applied watermark in its Redis ({@link AppliedLsn}), written by its applier's group. */
    private final String appliedLsnKey;

    CoherenceCheck(RegionRedis redis, String appliedLsnKey) {
        this.redis = redis;
        this.appliedLsnKey = appliedLsnKey;
    }

    /**
     * One sampled event and the fence counter when it was sampled.
     *
     * @param appliedSeen set once a check saw the invalidation applied (its fence moved). A later
     *                    check may find the fence expired (the 60 s window meets the default 60 s
     *                    fence-ttl): an unversioned entry present then was filled after the applied
     *                    invalidation, and is not evidence of staleness.
     */
    record Sample(InvalidationEvent event, String counterAtSample, AtomicBoolean appliedSeen) {
    }

    /** True when the sampled key holds nothing older than the sampled invalidation now. */
    boolean coherent(Sample sample) {
        InvalidationEvent e = sample.event();
        String key = e.key();
        String type = redis.keyCommands().type(key);
        if ("none".equals(type)) {
            return true;
        }
        String entryVersion = "hash".equals(type) ? redis.hashCommands().hget(key, RedisLayout.ENTRY_VERSION) : null;
        boolean knownVersion = entryVersion != null && !Versions.canonical(entryVersion).equals("0");
        if (knownVersion) {
            return Versions.compare(entryVersion, e.version()) >= 0;
        }
        List<KeyValue<String, String>> fence = redis.hashCommands().hmget(RedisLayout.fenceKey(key),
                RedisLayout.FENCE_VERSION, RedisLayout.FENCE_COUNTER);
        String fenceVersion = fence.get(0).hasValue() ? fence.get(0).getValue() : null;
        String fenceCounter = fence.get(1).hasValue() ? fence.get(1).getValue() : null;
        boolean applied = !"0".equals(Versions.canonical(e.version()))
                ? fenceVersion != null && Versions.compare(fenceVersion, e.version()) >= 0
                : fenceCounter != null && !Objects.equals(fenceCounter, sample.counterAtSample());
        if (applied) {
            sample.appliedSeen().set(true);
        }
        if (applied) {
            return true;
        }
        // the fence is gone: it expired since the invalidation was applied (a check that runs after the region's lag
        // plus the fence TTL, a late one, or one whose earlier checks came before the region applied it), or it was
        // never written; only a check that saw it applied, or the region's watermark past the event's commit, tells
        return fenceCounter == null && fenceVersion == null && (sample.appliedSeen().get() || appliedByWatermark(e));
    }

    /**
     * True when the region's applied watermark (the LSN up to which every partition's heartbeats are
     * applied, {@link AppliedLsn}) is at or past the COMMIT of the event's transaction: every change
     * committed before that heartbeat is applied, this one's invalidation included. An event without a
     * commit LSN, or a watermark that is missing or of mixed source histories, tells nothing (false).
     */
    private boolean appliedByWatermark(InvalidationEvent e) {
        if (e.commitLsn() == null) {
            return false;
        }
        OptionalLong watermark = AppliedLsn.of(redis.hashCommands().hgetall(appliedLsnKey));
        return watermark.isPresent() && watermark.getAsLong() >= e.commitLsn();
    }
}
