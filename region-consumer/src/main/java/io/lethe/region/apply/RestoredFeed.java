package io.lethe.region.apply;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A region's Redis restored while its consumer runs ({@link RestoreReplay}): the replay comes from
 * the log, but a topic move's or first feed's wholesale invalidation was applied in Redis alone, so
 * the restored marker is compared with what the instance is fed ({@link MarkerView}) and what it
 * records otherwise is invalidated wholesale before the replay is applied.
 */
final class RestoredFeed {
    private static final Logger LOG = LoggerFactory.getLogger(RestoredFeed.class);

    private RestoredFeed() {
    }

    /**
     * After a restore of the region's Redis was detected: what the restored marker records otherwise than this
     * view (every namespace received when it records another topic, or, once this instance wrote a marker, none
     * at all), to invalidate wholesale before applying, with the globs it recorded; empty when it matches.
     */
    static Optional<Stale> of(MarkerView view, TopicMove.Marker marker) {
        TopicMove.Fed mine = view.own();
        if (mine == null) {
            return Optional.empty(); // a start-up still deciding (a move, a first feed): it invalidates and writes the marker
        }
        if (view.holding()) {
            // this instance runs another configuration than the group's marker: the instances on that one handle the
            // restore (each checks the partitions it owns); writing this view would flip the marker to an old file
            return Optional.empty();
        }
        Optional<TopicMove.Fed> recorded = marker.read();
        if (recorded.isEmpty()) {
            // a snapshot older than the first feed's wholesale invalidation, which is not on the topic
            return Optional.of(new Stale("no topic marker", mine.receives(), Map.of()));
        }
        TopicMove.Fed fed = recorded.get();
        TreeSet<String> stale = new TreeSet<>(mine.receives());
        if (fed.topic().equals(mine.topic()) && !fed.receives().isEmpty()) {
            stale = FedDiff.changed(fed, mine);
        } else {
            stale.addAll(fed.receives());
        }
        return stale.isEmpty()
                ? Optional.empty()
                : Optional.of(new Stale("topic " + fed.topic() + ", namespaces " + fed.receives() + " and what they held then",
                        List.copyOf(stale), fed.globs()));
    }

    /**
     * After a restore ({@link RestoreReplay}): invalidates wholesale what the restored marker records otherwise
     * than this view ({@link #of}), then writes this view as the marker.
     *
     * @return false when the region closed before Redis acknowledged the invalidation, or the holds could not be recorded
     *         before it (the restore is found again by the next check)
     */
    static boolean invalidate(MarkerView view, TopicMove.Marker marker, String region, RegionMetrics metrics, String id,
            WholesaleEvents wholesale, Applying applying) throws InterruptedException {
        Optional<Stale> stale = of(view, marker);
        if (stale.isEmpty()) {
            return true;
        }
        LOG.error("region {}: the restored Redis records {}; invalidating namespaces {} wholesale (a topic move's or first feed's "
                + "wholesale invalidation is not on the topic the replay reads)", region, stale.get().recorded(), stale.get().namespaces());
        try {
            // before the invalidation, as a move records them: the restored record may be the old configuration's
            marker.recordHolds(view.own(), stale.get().namespaces());
        } catch (RuntimeException e) {
            // not invalidated now: the restore is not marked replayed, so the next check finds it and tries again
            LOG.warn("region {}: cannot record what the namespaces hold before the restore's invalidation yet ({})", region, e.toString());
            return false;
        }
        if (applying.apply(BatchPlan.of(wholesale.of("restore-feed:" + id, 0, stale.get().namespaces(),
                stale.get().formerGlobs()))) == null) {
            return false;
        }
        metrics.topicMoved();
        try {
            marker.write(view.own());
        } catch (RuntimeException e) {
            // not written: the next start finds the restored marker and invalidates wholesale again (never a stale entry)
            LOG.warn("region {}: cannot write the topic marker after the restore ({})", region, e.toString());
        }
        return true;
    }

    /** What a restored Redis was fed otherwise than now: its namespaces to invalidate wholesale, with the globs it recorded. */
    record Stale(String recorded, List<String> namespaces, Map<String, List<String>> formerGlobs) {
    }
}
