package io.lethe.region.apply;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** How two records of what a region's Redis is fed ({@link TopicMove.Fed}) differ: the namespaces a change concerns. */
public final class FedDiff {
    private FedDiff() {
    }

    /**
     * The namespaces whose feed differs between {@code before} (a marker) and {@code now}: received on one
     * side only, or received on both with other keys or other contents ({@link #rekeyed}).
     */
    static TreeSet<String> changed(TopicMove.Fed before, TopicMove.Fed now) {
        TreeSet<String> changed = new TreeSet<>(before.receives());
        changed.addAll(now.receives());
        Set<String> both = new HashSet<>(before.receives());
        both.retainAll(now.receives());
        changed.removeAll(both);
        changed.addAll(rekeyed(before, now));
        return changed;
    }

    /**
     * Namespaces received on both sides whose key templates changed (streams renders only the new keys, so entries of the
     * old ones, still filled by readers on the old configuration, would get no invalidation again) or whose entries hold
     * something else now: versions of another source (an entry filled at an LSN is never reached by a column's version),
     * another table's rows, another mode or payload.
     */
    public static TreeSet<String> rekeyed(TopicMove.Fed before, TopicMove.Fed now) {
        Set<String> both = new HashSet<>(before.receives());
        both.retainAll(now.receives());
        TreeSet<String> rekeyed = new TreeSet<>();
        for (String ns : both) {
            if (differ(before.globs().get(ns), now.globs().get(ns)) || differ(before.rendered().get(ns), now.rendered().get(ns))
                    || differ(before.holds().get(ns), now.holds().get(ns))) {
                rekeyed.add(ns); // other globs, the same globs of other templates (user:{id} -> user:{email}), other versions
            }
        }
        return rekeyed;
    }

    /** Both recorded (a marker of an older version records neither) and not the same set. */
    private static boolean differ(List<String> was, List<String> is) {
        return was != null && is != null && !new HashSet<>(was).equals(new HashSet<>(is));
    }
}
