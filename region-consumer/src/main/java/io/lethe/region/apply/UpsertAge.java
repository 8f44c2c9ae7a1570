package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Whether an upsert is still young enough to be written (issue 34, replay). A copy of an old signed
 * upsert that its partition's {@link ReplayFloor} has not passed yet is refused by the fence of the
 * change after it, but only while that fence lives: it was left no earlier than that change's
 * commit, which is after the copy's, so it lives at least until the copy's commit plus
 * {@code fence-ttl}. An upsert whose commit (its signed {@code commitTs}, the primary's clock) is
 * older than {@code fence-ttl} minus {@link LetheConfig#upsertAgeMargin} when the region applies it
 * may find that fence gone: it is applied as the delete at its version instead. A region lagging
 * by more than that writes no upserts (they cost misses until it catches up); redelivery, a
 * restore's, a topic move's or {@code lethe dlq replay}'s replay and a partition newly assigned
 * after a rebalance follow the same rule, since it needs nothing but the record and the clock.
 *
 * <p>Judged at apply time, just before the scripts are sent, so a batch retried through a Redis
 * outage is judged again at each attempt. Thread-safe.
 */
final class UpsertAge {
    private final Clock clock;
    /** Per namespace, the oldest an upsert may be, in microseconds. */
    private final Map<String, Long> maxAgeMicros = new HashMap<>();

    public UpsertAge(LetheConfig config, Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        for (NamespaceConfig ns : config.namespaces().values()) {
            maxAgeMicros.put(ns.name(), config.upsertMaxAge(ns).toNanos() / 1_000);
        }
    }

    /**
     * True when {@code e} is an upsert too old to be written now: committed longer ago than its
     * namespace's {@code fence-ttl} minus the margin (or of a namespace no longer configured).
     */
    public boolean tooOld(InvalidationEvent e) {
        return tooOld(e, nowMicros());
    }

    /** As {@link #tooOld(InvalidationEvent)} at {@code nowMicros} (epoch microseconds). */
    public boolean tooOld(InvalidationEvent e, long nowMicros) {
        if (e.action() != Action.UPSERT) {
            return false;
        }
        Long max = maxAgeMicros.get(e.namespace());
        return max == null || nowMicros - e.commitTs() > max;
    }

    /** How long ago {@code e} was committed, in milliseconds, by this region's clock (for logs). */
    public long ageMillis(InvalidationEvent e) {
        return (nowMicros() - e.commitTs()) / 1_000;
    }

    private long nowMicros() {
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
}
