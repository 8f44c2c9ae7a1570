package io.lethe.region.apply;

import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.IntSupplier;

/**
 * How far each partition of the region's topic is known to have come, to tell an upsert that
 * arrives again from one that is new (issue 34, replay). A signature proves who wrote a record, not
 * when: whoever can write the topic can copy an old signed upsert back into it, and once the key's
 * fence expired and its entry is gone nothing in Redis remembers the newer version. The stream does:
 * streams forwards every heartbeat of every changes partition to every partition of the topic after
 * everything that partition carried before it, so once a heartbeat of each changes partition came
 * through a partition, every change committed at or before the oldest of their LSNs (the floor)
 * came through it already. An upsert whose commit LSN is at or below the floor is therefore a
 * redelivery or a copy: it is applied as the delete at its version ({@link #replayed}), which can
 * cost a miss, never leave an old value.
 *
 * <p>The floor is raised by each verified watermark in the order the partition delivers it (an
 * upsert after a heartbeat in the same poll is judged against it), and seeded at start-up from the
 * applied watermark the region published in its Redis ({@link AppliedLsn}, written only after Redis
 * acknowledged what came before those heartbeats), so it holds from the first record after a restart.
 * It is kept across a restore replay (seeking back re-reads records the floor has passed: they are
 * applied as deletes, never as the values they carried). LSNs are positions in one source history: a
 * watermark of another history forgets everything, seed included, and the floor starts again from
 * that history's heartbeats (meanwhile upserts of the new history have no floor and are applied as
 * deletes, or, before its first heartbeat arrives, are judged against the old history's floor: a
 * delete too, never a stale value).
 *
 * <p>An upsert read while its partition has no floor ({@link Verdict#NO_FLOOR}) is applied as the
 * delete at its version as well: nothing in the stream tells it from a copy yet. Above the floor, the
 * fence of the change after a copied record is what refuses it, for as long as that fence lives:
 * {@link UpsertAge} turns an upsert whose commit is too old for that into a delete.
 *
 * <p>Not thread-safe: the consumer's thread owns it.
 */
final class ReplayFloor {
    private final IntSupplier sources;
    /** (partition, changes partition) → the newest watermark LSN seen through it. */
    private final Map<Long, Long> newest = new HashMap<>();
    /** partition → the applied LSN the region published for it before this run. */
    private final Map<Integer, Long> seeded = new HashMap<>();
    /** The source history of what is held; null while nothing is. */
    private String history;

    /**
     * @param sources how many partitions the changes topic has now (each a source of heartbeats; 0
     *                while unknown: then only the seed counts). A count read before a partition was
     *                added only raises the floor for upserts of that partition: a delete, never a stale value.
     */
    public ReplayFloor(IntSupplier sources) {
        this.sources = sources;
    }

    private static long slot(int partition, int source) {
        return ((long) partition << 32) | (source & 0xffffffffL);
    }

    /**
     * Seeds every partition from the applied watermark the region published in its Redis (the
     * fields of {@code lethe:lsn:<group>}, {@link AppliedLsn}); a partition without a number is left
     * out. Call before the first record.
     */
    public void seed(Map<String, String> appliedLsnFields) {
        for (Map.Entry<String, String> f : appliedLsnFields.entrySet()) {
            String field = f.getKey();
            if (field.isEmpty() || !field.chars().allMatch(Character::isDigit) || field.length() > 9) {
                continue;
            }
            long lsn;
            try {
                lsn = Long.parseLong(f.getValue());
            } catch (NumberFormatException notAPosition) {
                continue;
            }
            String of = appliedLsnFields.getOrDefault(AppliedLsn.HISTORY_PREFIX + field, "");
            if (history != null && !history.equals(of)) {
                continue; // partitions of two histories: only the first one's count
            }
            history = of;
            seeded.merge(Integer.parseInt(field), lsn, Math::max);
        }
    }

    /** A verified watermark read on {@code partition}, in the partition's order. */
    public void seen(int partition, Watermark w) {
        String of = w.history() == null ? "" : w.history();
        if (history != null && !history.equals(of)) {
            newest.clear();
            seeded.clear();
        }
        history = of;
        if (w.source() >= 0) {
            newest.merge(slot(partition, w.source()), w.lsn(), Math::max);
        }
    }

    /**
     * The LSN at or below which every change committed came through {@code partition} already;
     * empty while unknown (no seed, and not yet a heartbeat of every changes partition).
     */
    public OptionalLong floor(int partition) {
        long floor = seeded.getOrDefault(partition, -1L);
        int count = sources.getAsInt();
        if (count > 0) {
            long oldest = Long.MAX_VALUE;
            for (int source = 0; source < count && oldest >= 0; source++) {
                oldest = Math.min(oldest, newest.getOrDefault(slot(partition, source), -1L));
            }
            floor = Math.max(floor, oldest);
        }
        return floor < 0 ? OptionalLong.empty() : OptionalLong.of(floor);
    }

    /** What the floor says of an upsert ({@link #judge}). */
    public enum Verdict {
        /** Not an upsert, or an upsert above the floor: applied as it is. */
        ABOVE,
        /** An upsert at or below the floor: a change the partition carried before (a redelivery or a copy). */
        REPLAYED,
        /**
         * An upsert read while the partition has no floor (no seed, and not yet a heartbeat of every
         * changes partition through it): nothing tells a copy from a new change, so it is applied as a delete too.
         */
        NO_FLOOR
    }

    /**
     * Judges {@code e}, read on {@code partition}: an upsert whose commit LSN (the change's own LSN
     * where the commit's is unknown, which is lower, so judged older) is at or below the {@link #floor}
     * is {@link Verdict#REPLAYED}; one read while the partition has no floor is {@link Verdict#NO_FLOOR}
     * (a region's first start before its first heartbeats, a partition of the region's topic or of the
     * changes topic just added, the first heartbeats after a change of source history: at most one
     * heartbeat interval plus the lag, during which upserts cost a miss).
     */
    public Verdict judge(InvalidationEvent e, int partition) {
        Objects.requireNonNull(e, "event");
        if (e.action() != Action.UPSERT) {
            return Verdict.ABOVE;
        }
        OptionalLong floor = floor(partition);
        if (floor.isEmpty()) {
            return Verdict.NO_FLOOR;
        }
        return e.visibleAfter() <= floor.getAsLong() ? Verdict.REPLAYED : Verdict.ABOVE;
    }

    /** True when {@code e} is an upsert at or below the partition's floor ({@link Verdict#REPLAYED}). */
    public boolean replayed(InvalidationEvent e, int partition) {
        return judge(e, partition) == Verdict.REPLAYED;
    }

    @Override
    public String toString() {
        return "ReplayFloor[history=" + history + ", seeded=" + seeded + ", watermarks=" + newest.size() + "]";
    }
}
