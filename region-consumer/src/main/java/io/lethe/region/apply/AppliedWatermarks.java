package io.lethe.region.apply;

import io.lethe.schemas.SourceHistory;
import io.lethe.schemas.Watermark;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How far a region is caught up with the primary: for every partition of its topic this consumer
 * owns, and every changes partition a watermark came through, the commit time of the newest
 * heartbeat applied (everything before it on that partition is in Redis). The oldest of these is
 * the region's applied watermark; now minus it is the end-to-end lag. It grows when any stage
 * before Redis stops or slows (capture, streams, this consumer, Redis), whether or not
 * invalidations arrive. Written by the consumer's thread, read by metrics scrapes.
 *
 * <p>LSNs are positions in one source history ({@link SourceHistory}). A
 * watermark of another history than the one held (the source was restored, failed over to an
 * asynchronous standby, switched blue/green: its LSNs may have gone back) is not compared with
 * them: everything is forgotten, as after a {@link #reset}, and the new history starts from its
 * own watermarks. Watermarks of the old history still on their way each start again the same way
 * (nothing is known of a history until every channel brought one of it), so the region's
 * watermark settles on the newest history once the old one has drained.
 */
public final class AppliedWatermarks {
    /** Commit metadata: {@code watermark=<epoch micros>}. */
    static final String METADATA_PREFIX = "watermark=";
    private final Map<Long, Long> applied = new ConcurrentHashMap<>();
    /** The same slots' newest applied heartbeat LSN: what read-your-writes tokens are compared with. */
    private final Map<Long, Long> appliedLsn = new ConcurrentHashMap<>();
    private volatile Set<Integer> assigned = Set.of();
    /** When each owned partition was assigned (epoch micros): how far behind it counts before its first watermark. */
    private final Map<Integer, Long> assignedAt = new ConcurrentHashMap<>();
    private volatile long resets;
    /** The source history of the watermarks held; "" before the first, or while the source does not say. */
    private volatile String history = "";
    private volatile long historyChanges;

    private static long slot(int partition, int source) {
        return ((long) partition << 32) | (source & 0xffffffffL);
    }

    /** Everything before {@code watermark} on {@code partition} is applied. */
    public void applied(int partition, Watermark watermark) {
        String of = watermark.history() == null ? "" : watermark.history();
        if (!of.equals(history)) {
            if (!applied.isEmpty() || !appliedLsn.isEmpty()) {
                reset();
                historyChanges++;
            }
            history = of;
        }
        applied.merge(slot(partition, watermark.source()), watermark.commitTs(), Math::max);
        appliedLsn.merge(slot(partition, watermark.source()), watermark.lsn(), Math::max);
    }

    /**
     * Forgets every watermark: the region's Redis lost applied writes (a restore) and the consumer
     * replays, so nothing is known to be applied until the replay brings heartbeats again.
     */
    public void reset() {
        applied.clear();
        appliedLsn.clear();
        // not "behind since the assignment" once the replay brings heartbeats: behind as far as the others' sources say
        assignedAt.clear();
        resets++;
    }

    /** The source history of the watermarks held ("" when unknown). */
    public String history() {
        return history;
    }

    /** How many times watermarks of another source history than the one held arrived (each forgot what was held). */
    public long historyChanges() {
        return historyChanges;
    }

    /** How many times {@link #reset} was called: a publisher that saw another count must withdraw what it published. */
    public long resets() {
        return resets;
    }

    /**
     * The LSN up to which every change that came through {@code partition} is applied: the oldest
     * newest-heartbeat LSN over the {@code sources} changes partitions; empty until a heartbeat of
     * each of them was applied here (one missing source could still hold an older change).
     */
    public OptionalLong appliedLsn(int partition, int sources) {
        return oldest(appliedLsn, partition, sources);
    }

    /** The commit time (epoch micros) of {@link #appliedLsn}'s heartbeats: the oldest over the sources. */
    public OptionalLong appliedCommitTs(int partition, int sources) {
        return oldest(applied, partition, sources);
    }

    private static OptionalLong oldest(Map<Long, Long> marks, int partition, int sources) {
        long oldest = Long.MAX_VALUE;
        for (int source = 0; source < sources; source++) {
            Long lsn = marks.get(slot(partition, source));
            if (lsn == null) {
                return OptionalLong.empty();
            }
            oldest = Math.min(oldest, lsn);
        }
        return sources > 0 ? OptionalLong.of(oldest) : OptionalLong.empty();
    }

    /** The partitions this consumer owns now; the others' watermarks are another consumer's to report. */
    public void assigned(Set<Integer> partitions) {
        assigned(partitions, System.currentTimeMillis() * 1000);
    }

    /**
     * The partitions this consumer owns now ({@code nowMicros}: epoch micros, when a partition that
     * is new to it counts from in {@link #oldest} until its first watermark is applied).
     */
    public void assigned(Set<Integer> partitions, long nowMicros) {
        if (!partitions.equals(assigned)) {
            assigned = Set.copyOf(partitions);
            applied.keySet().removeIf(slot -> !assigned.contains((int) (slot >>> 32)));
            appliedLsn.keySet().removeIf(slot -> !assigned.contains((int) (slot >>> 32)));
            assignedAt.keySet().removeIf(p -> !assigned.contains(p));
            assigned.forEach(p -> assignedAt.putIfAbsent(p, nowMicros));
        }
    }

    /**
     * The commit time (epoch micros) up to which everything this consumer owns is applied; empty
     * before the first watermark. Partitions are added to topics to scale out, so a channel without
     * a watermark yet is not left out once others have one: an owned partition without any counts
     * from when it was assigned, and a changes partition whose watermarks reached another owned
     * partition but not this one counts from the oldest of its watermarks seen there.
     */
    /**
     * How many watermark channels there are (one per capture shard and changes partition, read from
     * the brokers by {@link AppliedLsnPublisher}); 0 until known. A channel of them without a
     * watermark yet is counted in {@link #oldest()} and {@link #commitMetadata(int)}.
     */
    public void expectChannels(int channels) {
        expectChannels(channels, System.currentTimeMillis() * 1000);
    }

    /** {@link #expectChannels(int)}, a channel new since the last call counting from {@code nowMicros} at the latest. */
    public synchronized void expectChannels(int channels, long nowMicros) {
        for (int c = expectedChannels; c < channels; c++) {
            expectedAt.putIfAbsent(c, nowMicros);
        }
        expectedChannels = channels;
    }

    private volatile int expectedChannels;
    /** When each channel became known: one added later (a changes partition, a shard) counts from then, not from the assignment. */
    private final Map<Integer, Long> expectedAt = new ConcurrentHashMap<>();

    public OptionalLong oldest() {
        Set<Integer> owned = assigned;
        Map<Integer, Long> sources = new HashMap<>(); // changes partition -> its oldest newest watermark over owned partitions
        for (Map.Entry<Long, Long> e : applied.entrySet()) {
            if (owned.contains((int) (e.getKey() >>> 32))) {
                sources.merge((int) (long) e.getKey(), e.getValue(), Math::min);
            }
        }
        if (sources.isEmpty()) {
            return OptionalLong.empty();
        }
        // a channel none of whose watermarks came yet (a capture shard down since this consumer started, one added):
        // counted from the owned partitions' assignment, not left out, so the lag grows and says so
        int expected = expectedChannels;
        OptionalLong ownedSince = owned.stream().map(assignedAt::get).filter(Objects::nonNull).mapToLong(Long::longValue).min();
        for (int channel = 0; channel < expected && ownedSince.isPresent(); channel++) {
            sources.putIfAbsent(channel, Math.max(ownedSince.getAsLong(), expectedAt.getOrDefault(channel, 0L)));
        }
        long oldest = Long.MAX_VALUE;
        for (int partition : owned) {
            for (Map.Entry<Integer, Long> source : sources.entrySet()) {
                Long mark = applied.get(slot(partition, source.getKey()));
                if (mark != null) {
                    oldest = Math.min(oldest, mark);
                } else {
                    Long since = assignedAt.get(partition);
                    boolean anyFromPartition = applied.keySet().stream().anyMatch(slot -> (int) (slot >>> 32) == partition);
                    oldest = Math.min(oldest, !anyFromPartition && since != null ? since : source.getValue());
                }
            }
        }
        return oldest == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(oldest);
    }

    /**
     * The commit metadata of {@code partition}: its applied watermark (epoch micros, decimal), the
     * oldest over the changes partitions; empty before its first. {@code lethe lag} reads it from
     * the group's committed offsets, so it needs neither the region's Redis nor its /metrics.
     */
    public String commitMetadata(int partition) {
        long oldest = Long.MAX_VALUE;
        int channels = 0;
        for (Map.Entry<Long, Long> e : applied.entrySet()) {
            if ((int) (e.getKey() >>> 32) == partition) {
                oldest = Math.min(oldest, e.getValue());
                channels++;
            }
        }
        Long since = assignedAt.get(partition);
        if (oldest != Long.MAX_VALUE && channels < expectedChannels && since != null) {
            // a channel without a watermark yet counts from the assignment, or from when it was added
            long missingSince = Long.MAX_VALUE;
            for (int c = 0; c < expectedChannels; c++) {
                if (!applied.containsKey(slot(partition, c))) {
                    missingSince = Math.min(missingSince, Math.max(since, expectedAt.getOrDefault(c, 0L)));
                }
            }
            oldest = Math.min(oldest, missingSince);
        }
        return oldest == Long.MAX_VALUE ? "" : METADATA_PREFIX + oldest;
    }

    /** The applied watermark in a commit's metadata, if it holds one. */
    public static OptionalLong fromCommitMetadata(String metadata) {
        if (metadata == null || !metadata.startsWith(METADATA_PREFIX)) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(metadata.substring(METADATA_PREFIX.length())));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** Seconds from the applied watermark to {@code nowMicros}; NaN before the first watermark. */
    public double lagSeconds(long nowMicros) {
        OptionalLong oldest = oldest();
        return oldest.isEmpty() ? Double.NaN : Math.max(0, nowMicros - oldest.getAsLong()) / 1e6;
    }
}
