package io.lethe.region.inspect;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The sweep's suspects on their way to confirmation, as {@code lethe inspect} confirms them but
 * without stopping the walk: suspects found within a second (or a hundred of them) form a batch;
 * closing it reads the source's position (after their rows); the batch then waits, while the sweep
 * walks on, until the region's applied watermark reached that position (checked a few times a
 * second), and is handed back to be judged again, or, after {@code confirmWithin}, given up as
 * unconfirmed (the next pass finds them again). One batch waits at a time; while it does, a full
 * open batch stops the walk ({@link #full}), which bounds memory and the rate of position reads.
 */
final class SweepBatches {
    /** The database and the region, as the batches need them ({@link KeyChecks}). */
    interface Source {
        long position() throws SQLException;

        boolean reached(long position) throws SQLException;
    }

    /** What a step hands back: a batch whose watermark passed, or one that waited too long. */
    record Outcome(List<Suspect> ready, List<Suspect> expired) {
        static final Outcome NONE = new Outcome(List.of(), List.of());
    }

    static final int MAX_BATCH = 100;
    static final long CLOSE_AFTER_NANOS = 1_000_000_000L;
    static final long CHECK_EVERY_NANOS = 250_000_000L;

    private final long confirmWithinNanos;
    private List<Suspect> open = new ArrayList<>();
    private long openedAt;
    private List<Suspect> waiting = List.of();
    private long position;
    private long deadline;
    private long nextCheck;

    SweepBatches(Duration confirmWithin) {
        this.confirmWithinNanos = confirmWithin.toNanos();
    }

    void add(Suspect s, long now) {
        if (open.isEmpty()) {
            openedAt = now;
        }
        open.add(s);
    }

    /** True while the open batch is full and another one waits: the sweep stops walking until that one is handed back. */
    boolean full() {
        return open.size() >= MAX_BATCH && !waiting.isEmpty();
    }

    /** Suspects not handed back yet. */
    int size() {
        return open.size() + waiting.size();
    }

    /**
     * Checks the waiting batch (at most every {@link #CHECK_EVERY_NANOS}) and closes the open one
     * when none waits and it is full, a second old, or {@code closeNow} (the end of a pass).
     */
    Outcome step(long now, boolean closeNow, Source source) throws SQLException {
        Outcome out = Outcome.NONE;
        if (!waiting.isEmpty() && now - nextCheck >= 0) {
            nextCheck = now + CHECK_EVERY_NANOS;
            if (source.reached(position)) {
                out = new Outcome(waiting, List.of());
                waiting = List.of();
            } else if (now - deadline >= 0) {
                out = new Outcome(List.of(), waiting);
                waiting = List.of();
            }
        }
        if (waiting.isEmpty() && !open.isEmpty() && (closeNow || open.size() >= MAX_BATCH || now - openedAt >= CLOSE_AFTER_NANOS)) {
            position = source.position();
            deadline = now + confirmWithinNanos;
            nextCheck = now;
            waiting = open;
            open = new ArrayList<>();
        }
        return out;
    }
}
