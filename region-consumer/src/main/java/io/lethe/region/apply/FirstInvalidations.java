package io.lethe.region.apply;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * What the loop does before, or between, its first batches, as {@link StartupFeed} decided: a
 * wholesale invalidation before the first record (a topic move), one once a first feed's proof
 * arrived, and what runs once the loop started. Each is done by {@link RestoreReplay} through an
 * {@link Applying} that runs a given action once the plan is applied for good (after the replica
 * gate, if any).
 */
final class FirstInvalidations {
    private String wholesale;
    private long wholesaleLsn;
    private List<String> wholesaleNamespaces = List.of();
    /** Globs of namespaces no longer configured, recorded while they were (see {@link #invalidateFirst}). */
    private Map<String, List<String>> wholesaleFormerGlobs = Map.of();
    private Runnable whenStarted;
    /** A first feed's wholesale invalidation, done once its proof arrived (see {@link #invalidateWhenProven}). */
    private String firstFeed;
    private List<String> firstFeedNamespaces = List.of();
    private Runnable firstFeedDone;
    private CompletableFuture<Long> firstFeedProof;

    /**
     * Before the first record: invalidates {@code namespaces} wholesale at source position {@code lsn};
     * a namespace no longer configured is invalidated by its {@code formerGlobs} (recorded while it
     * was); then runs {@code then} once Redis acknowledged it.
     */
    void invalidateFirst(String why, long lsn, List<String> namespaces, Map<String, List<String>> formerGlobs, Runnable then) {
        this.wholesale = why;
        this.wholesaleLsn = lsn;
        this.wholesaleNamespaces = List.copyOf(namespaces);
        this.wholesaleFormerGlobs = Map.copyOf(formerGlobs);
        this.whenStarted = then;
    }

    /** Invalidates {@code namespaces} wholesale once {@code proof} completes with a source position, then runs {@code then}. */
    void invalidateWhenProven(String why, List<String> namespaces, CompletableFuture<Long> proof, Runnable then) {
        this.firstFeed = why;
        this.firstFeedNamespaces = List.copyOf(namespaces);
        this.firstFeedProof = proof;
        this.firstFeedDone = then;
    }

    /** Runs {@code then} once, when the loop starts (after {@link #invalidateFirst}'s invalidation, if any). */
    void whenStarted(Runnable then) {
        this.whenStarted = then;
    }

    /** True while a first feed waits for its proof: the loop keeps looking at it. */
    boolean firstFeedPending() {
        return firstFeed != null;
    }

    /**
     * When the loop starts: the wholesale invalidation, if any, then {@code whenStarted}. With a
     * replica gate, done only once the invalidation was applied again after the replica replayed
     * past it (a restart before that finds the move again): a reader's refill from the lagging
     * replica cannot outlive it.
     *
     * @param applyThen an {@link Applying} that runs the given action once the plan is applied for good
     * @return false when the loop closed before Redis acknowledged it (the next start finds the move again)
     */
    boolean start(RestoreReplay restore, Function<Runnable, Applying> applyThen) throws InterruptedException {
        if (wholesale != null) {
            return restore.invalidateWholesale(wholesale, wholesaleLsn, wholesaleNamespaces, wholesaleFormerGlobs,
                    applyThen.apply(whenStarted));
        }
        if (whenStarted != null) {
            whenStarted.run();
        }
        return true;
    }

    /**
     * The proven invalidation, once its proof arrived (upserts at or below it are then deletes),
     * between two batches; false when the loop closed before Redis acknowledged it (the next start
     * finds the first feed again).
     */
    boolean firstFeedIfProven(RestoreReplay restore, Function<Runnable, Applying> applyThen) throws InterruptedException {
        if (firstFeed == null || !firstFeedProof.isDone() || firstFeedProof.isCompletedExceptionally()) {
            return true;
        }
        if (!restore.invalidateWholesaleNow(firstFeed, firstFeedProof.join(), firstFeedNamespaces, Map.of(),
                applyThen.apply(firstFeedDone))) {
            return false;
        }
        firstFeed = null;
        return true;
    }
}
