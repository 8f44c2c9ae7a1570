package io.lethe.region.apply;

/** Applies a batch's plan to the region's Redis once ({@link RedisApplier}; a script of outcomes in tests). */
public interface Applier {
    /**
     * @return what it did, poison keys included (widened and listed)
     * @throws RedisApplier.ApplyFailure when the whole batch must be applied again (retriable or configuration error)
     */
    RedisApplier.Applied apply(BatchPlan plan) throws RedisApplier.ApplyFailure, InterruptedException;
}
