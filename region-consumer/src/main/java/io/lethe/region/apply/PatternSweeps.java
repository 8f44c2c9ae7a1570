package io.lethe.region.apply;

import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Versions;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.retry.Retry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's pattern and namespace-wide sweeps, on a worker thread of their own, so the apply
 * loop goes on applying key invalidations while a sweep walks the keyspace. The loop moves the
 * epochs and watermarks of a pattern before it submits the sweep ({@link RedisApplier#applyDeferringSweeps}):
 * a reader's fill from a load older than the pattern is undone by its epoch check, whenever the
 * sweep reaches its key. Sweeps run one at a time, oldest first; a sweep submitted for a glob
 * that already waits, not started, joins it (the newest version of each namespace and scope
 * kept). A failed sweep is run again after a backoff, never skipped; what the loop holds behind
 * it (offsets, heartbeats) waits meanwhile. Sequence numbers say how far it got: {@link #done()}
 * is the newest sweep finished, every older one finished too.
 */
final class PatternSweeps implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PatternSweeps.class);

    /** Runs one glob's sweep (its epochs and watermarks already moved). */
    @FunctionalInterface
    public interface Sweeper {
        Applied sweep(String glob, List<InvalidationEvent> events) throws ApplyFailure, InterruptedException;
    }

    /** A finished sweep: its events and what it did (poison keys widened). */
    public record Finished(List<InvalidationEvent> events, Applied applied) {
    }

    /** What finished since the last call, and the newest sequence number finished (every older one finished too). */
    public record Progress(long done, List<Finished> finished) {
    }

    private static final class Sweep {
        final long seq;
        final String glob;
        final List<InvalidationEvent> events = new ArrayList<>();

        Sweep(long seq, String glob) {
            this.seq = seq;
            this.glob = glob;
        }

        /** Adds {@code more}, keeping one event per namespace and scope: the newest. */
        void join(List<InvalidationEvent> more) {
            for (InvalidationEvent e : more) {
                boolean merged = false;
                for (int i = 0; i < events.size(); i++) {
                    InvalidationEvent current = events.get(i);
                    if (current.namespace().equals(e.namespace()) && current.scope() == e.scope()) {
                        if (Versions.compare(e.version(), current.version()) > 0) {
                            events.set(i, e);
                        }
                        merged = true;
                        break;
                    }
                }
                if (!merged) {
                    events.add(e);
                }
            }
        }
    }

    private final String region;
    private final Sweeper sweeper;
    private final RegionMetrics metrics;
    private final Backoff backoff;
    private final Consumer<Failure> misconfigured;
    private final ArrayDeque<Sweep> waiting = new ArrayDeque<>();
    private final List<Finished> finished = new ArrayList<>();
    private Sweep running;
    private long submitted;
    private long done;
    private boolean closed;
    private Thread worker;
    /** True from a sweep's failure until it is done: the region reports itself DOWN meanwhile. */
    private volatile boolean failing;

    /**
     * @param sweeper       runs a sweep on a Redis connection of its own
     * @param misconfigured told a configuration error of a sweep (health DOWN), which is retried meanwhile
     */
    public PatternSweeps(String region, Sweeper sweeper, RegionMetrics metrics, Backoff backoff, Consumer<Failure> misconfigured) {
        this.region = region;
        this.sweeper = sweeper;
        this.metrics = metrics;
        this.backoff = backoff;
        this.misconfigured = misconfigured;
        metrics.patternBacklog(this::backlog);
    }

    /**
     * Queues the sweep of {@code glob} for {@code events}, or joins it to the one of the same
     * glob that has not started yet.
     *
     * @return the sequence number the loop waits for ({@link #done()} at or past it: swept)
     */
    public long submit(String glob, List<InvalidationEvent> events) {
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("region " + region + ": the pattern sweeps are closed");
            }
            for (Sweep s : waiting) {
                if (s.glob.equals(glob)) {
                    s.join(events);
                    return s.seq;
                }
            }
            Sweep s = new Sweep(++submitted, glob);
            s.join(events);
            waiting.addLast(s);
            if (worker == null) {
                worker = new Thread(this::work, "lethe-region-" + region + "-sweeps");
                worker.setDaemon(true);
                worker.start();
            }
            notifyAll();
            return s.seq;
        }
    }

    /** The newest sequence number submitted. */
    public synchronized long submitted() {
        return submitted;
    }

    /** The newest sequence number finished; every older one is finished too. */
    public synchronized long done() {
        return done;
    }

    /** True while a sweep that failed is being swept again (the apply loop may be doing well meanwhile). */
    public boolean failing() {
        return failing;
    }

    /** Sweeps waiting or running. */
    public synchronized int backlog() {
        return waiting.size() + (running != null ? 1 : 0);
    }

    /** What finished since the last call (taken), with {@link #done()} read at the same moment. */
    public synchronized Progress takeFinished() {
        List<Finished> out = List.copyOf(finished);
        finished.clear();
        return new Progress(done, out);
    }

    private void work() {
        try {
            while (true) {
                Sweep s;
                synchronized (this) {
                    while (waiting.isEmpty() && !closed) {
                        wait();
                    }
                    if (closed) {
                        return;
                    }
                    s = waiting.pollFirst();
                    running = s;
                }
                long started = System.nanoTime();
                Applied applied = sweepUntilDone(s);
                metrics.patternSwept(System.nanoTime() - started);
                synchronized (this) {
                    finished.add(new Finished(List.copyOf(s.events), applied));
                    running = null;
                    done = s.seq;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            // nothing behind the sweep is released: the region's offsets and watermark stop here, its lag grows; the region
            // says so (health DOWN through failing()) until it is restarted, when what was not committed is read again
            failing = true;
            LOG.error("region {}: the pattern sweeps stopped; nothing behind them is committed until the region restarts", region, e);
        }
    }

    private Applied sweepUntilDone(Sweep s) throws InterruptedException {
        // neither bounded nor stopped: it ends applied, or with the worker's interrupt
        Applied applied = Retry.of(LOG, backoff, "region " + region + ": the sweep of " + s.glob
                + " (sweeping again until done, nothing behind it is committed meanwhile)").untilStopped()
                .onFailure(ApplyFailure.class, (e, attempt) -> {
                    failing = true;
                    metrics.retry(e.kind());
                    if (e.failure().isFatal()) {
                        misconfigured.accept(e.failure());
                    }
                })
                .get(() -> sweeper.sweep(s.glob, s.events))
                .orElseThrow();
        failing = false;
        return applied;
    }

    /** Stops the worker; a sweep not finished is done again by whoever applies its record next (its offset was not committed). */
    @Override
    public void close() {
        Thread w;
        synchronized (this) {
            closed = true;
            notifyAll();
            w = worker;
        }
        if (w != null) {
            w.interrupt();
            try {
                w.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
