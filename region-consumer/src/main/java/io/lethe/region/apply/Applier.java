package io.lethe.region.apply;

/** Applies a batch's plan to the region's Redis once ({@link RedisApplier}; a script of outcomes in tests). */
interface Applier {
    /**
     * @return what it did, poison keys included (widened and listed)
     * @throws ApplyFailure when the whole batch must be applied again (retriable or configuration error)
     */
    Applied apply(BatchPlan plan) throws ApplyFailure, InterruptedException;

    /**
     * As {@link #apply}, except that the sweeps of its patterns may go on after it returns, on
     * {@link #sweeps()} (their epochs and watermarks are moved before it returns). By default,
     * everything now.
     */
    default Applied applyDeferringSweeps(BatchPlan plan) throws ApplyFailure, InterruptedException {
        return apply(plan);
    }

    /** Where {@link #applyDeferringSweeps} runs its sweeps; null when it runs them in place. */
    default PatternSweeps sweeps() {
        return null;
    }
}
