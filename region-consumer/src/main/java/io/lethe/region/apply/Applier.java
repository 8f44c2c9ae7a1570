package io.lethe.region.apply;

/** Applies a batch's plan to the region's Redis once ({@link RedisApplier}; a script of outcomes in tests). */
public interface Applier {
    /**
     * @return what it did, poison keys included (widened and listed)
     * @throws RedisApplier.ApplyFailure when the whole batch must be applied again (retriable or configuration error)
     */
    RedisApplier.Applied apply(BatchPlan plan) throws RedisApplier.ApplyFailure, InterruptedException;

    /**
     * As {@link #apply}, except that the sweeps of its patterns may go on after it returns, on
     * {@link #sweeps()} (their epochs and watermarks are moved before it returns). By default,
     * everything now.
     */
    default RedisApplier.Applied applyDeferringSweeps(BatchPlan plan) throws RedisApplier.ApplyFailure, InterruptedException {
        return apply(plan);
    }

    /** Where {@link #applyDeferringSweeps} runs its sweeps; null when it runs them in place. */
    default PatternSweeps sweeps() {
        return null;
    }
}
