package io.lethe.region.apply;

import io.lethe.schemas.Watermark;

/**
 * What the LSN ceiling ({@code apply.max-lsn-lead-mib}, {@link EventRules}) is measured from: the
 * highest LSN of a watermark merged (or seeded from the applied watermark kept in Redis), over every
 * source history: it only grows, so neither the order in which partitions deliver the watermarks of
 * two histories nor a copy of an old watermark can lower it.
 *
 * <p>After a switch to a source whose positions are far ahead of the old one's (another cluster, a
 * blue/green switch), capture's reset of every namespace and the new history's first changes come
 * before any watermark of theirs, beyond the ceiling. A signed reset that deletes whatever is there
 * (a namespace reset at 2^64 - 1; with {@code streams.watermark-key} only, so nobody without the key
 * can do it) lifts the ceiling for signed records until a watermark at or beyond that reset's LSN
 * arrives: an old history's watermark still on its way (below it) does not end the lift, and
 * unsigned records stay bound by the ceiling throughout, as do manual purges ({@code op: manual}:
 * streams signs them, but their LSN is the requesting application's choice; one far ahead would be
 * merged into the wide watermark and turn every later upsert into a delete). Without the key, nothing lifts it: such a
 * switch dead-letters the new history's reset and first changes (docs/design.md).
 */
final class LsnCeiling {
    /** The highest LSN of a watermark merged, or seeded; -1 before the first. */
    private long lsn = -1;
    /** The LSN of the signed wholesale reset that lifted the ceiling for signed records, or -1. */
    private long liftedAt = -1;

    /** Raises the reference to {@code seeded}, a watermark this region applied before. */
    void seed(long seeded) {
        lsn = Math.max(lsn, seeded);
    }

    /** A watermark merged. */
    void watermark(Watermark w) {
        lsn = Math.max(lsn, w.lsn());
        if (liftedAt >= 0 && w.lsn() >= liftedAt) {
            liftedAt = -1; // the source has a watermark at the reset's position: the ceiling holds again from there
        }
    }

    /** A signed reset that deletes whatever is there, at {@code resetLsn}, was read: the source's history may have changed. */
    void lift(long resetLsn) {
        liftedAt = Math.max(liftedAt, resetLsn);
    }

    /** The LSN the ceiling is measured from for a record ({@code signed}: its signature verified with the key), or -1 when none applies. */
    long reference(boolean signed) {
        return signed && liftedAt >= 0 ? -1 : lsn;
    }
}
