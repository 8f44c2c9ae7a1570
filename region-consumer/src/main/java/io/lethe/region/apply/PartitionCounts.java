package io.lethe.region.apply;

import java.util.Optional;

/**
 * How many partitions the region's topic and the changes topic have, read fresh from the brokers
 * each time it is asked: partitions are added to topics to scale out, and an applied watermark
 * computed with an older count would claim to cover changes routed to partitions it never saw.
 */
@FunctionalInterface
interface PartitionCounts {
    /**
     * The counts now, read after everything applied so far; empty when the brokers did not answer
     * (the watermark is then not published: readers load from the primary, slower, never staler).
     */
    Optional<Counts> now();

    /**
     * @param region  partitions of the region's topic: one applied watermark per partition
     * @param changes the watermark channels: one per (capture shard, changes partition), each a source of
     *                heartbeats ({@code LetheConfig#watermarkChannel}); the changes topic's partitions without shards
     */
    record Counts(int region, int changes) {
    }
}
