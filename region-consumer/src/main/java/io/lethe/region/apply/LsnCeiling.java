package io.lethe.region.apply;

import io.lethe.schemas.Watermark;
import java.util.HashSet;
import java.util.Set;

/**
 * What the LSN ceiling ({@code apply.max-lsn-lead-mib}, {@link EventRules}) is measured from: the
 * highest LSN of a watermark merged, kept per source history ({@code io.lethe.schemas.SourceHistory}).
 * LSNs of two histories cannot be compared: after a switch to a source whose positions are far
 * ahead, the old history's watermarks would refuse the new history's reset and changes. So a
 * watermark of a history not seen before starts the ceiling again from its own LSN, watermarks of a
 * history left behind (still on their way from other partitions) no longer move it, and a reset
 * that deletes whatever is there (a namespace reset at 2^64 - 1: capture's after the history
 * changed, and the others) lifts it: no invalidation of the new history has a watermark of its own
 * yet. It comes back with the first watermark of a new history, or one of the same history beyond
 * the LSN it was lifted at (the history went on past the reset: it did not change).
 */
final class LsnCeiling {
    /** The highest LSN of a watermark of {@link #history} merged, or seeded; -1 before the first. */
    private long lsn = -1;
    /** The history of {@link #lsn}; null while unknown (before the first watermark: a seed has none). */
    private String history;
    private final Set<String> left = new HashSet<>();
    private boolean lifted;

    /** Raises the reference to {@code lsn}, a watermark this region applied before (of a history not known here). */
    void seed(long seeded) {
        lsn = Math.max(lsn, seeded);
    }

    /** A watermark merged. */
    void watermark(Watermark w) {
        String of = w.history() == null ? "" : w.history();
        if (history == null || of.equals(history)) {
            if (lifted && history != null && w.lsn() <= lsn) {
                return; // perhaps the old history's last, still on its way: no proof the history went on
            }
            lsn = history == null && lifted ? w.lsn() : Math.max(lsn, w.lsn());
            history = of;
            lifted = false;
        } else if (!left.contains(of)) {
            left.add(history);
            history = of;
            lsn = w.lsn();
            lifted = false;
        }
    }

    /** A reset that deletes whatever is there was admitted: the source's history may have changed. */
    void lift() {
        lifted = true;
    }

    /** The LSN the ceiling is measured from, or -1 when none applies. */
    long reference() {
        return lifted ? -1 : lsn;
    }
}
