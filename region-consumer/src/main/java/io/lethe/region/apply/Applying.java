package io.lethe.region.apply;

/** Applies a plan until Redis acknowledges it, staying in the group meanwhile. */
@FunctionalInterface
interface Applying {
    /** @return what it did, or null when the region is closing before it could apply */
    Applied apply(BatchPlan plan) throws InterruptedException;
}
