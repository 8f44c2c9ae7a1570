package io.lethe.region.prewarm;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.apply.ConfiguredFeed;
import io.lethe.region.apply.FedDiff;
import io.lethe.region.apply.RegionApply;
import io.lethe.region.apply.TopicMove;
import io.lethe.region.redis.RegionRedis;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Prewarm copies a namespace only between two regions whose Redis both record it as this
 * configuration has it: the same key templates and patterns ({@code NamespaceConfig.keysRendered})
 * and the same table, version source, mode and payload ({@code NamespaceConfig.holdsRendered}),
 * as each region's consumer wrote them in its topic marker ({@link TopicMove}) once it was fed
 * under them. A source whose consumer still runs another file holds entries under other keys or
 * versions (an entry filled at an LSN keeps that LSN in the copy, far above every version of a
 * column, so no invalidation would ever remove it); a target whose consumer does would apply the
 * new invalidations by the old rules. A marker that records nothing of the namespace (a consumer
 * of a version before it recorded what entries hold, or one that never ran) proves nothing either.
 */
final class FedAlike {
    private FedAlike() {
    }

    /** @throws IllegalArgumentException naming each region and namespace fed otherwise, and what to do */
    static void require(LetheConfig config, Collection<NamespaceConfig> namespaces, RegionConfig from, RegionRedis source, RegionConfig to,
            RegionRedis target) {
        List<String> problems = new ArrayList<>();
        check(config, namespaces, from, source, problems);
        check(config, namespaces, to, target, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("prewarm " + from.name() + " -> " + to.name() + " copies nothing: "
                    + String.join("; ", problems)
                    + ". Roll " + config.file() + " out to both regions' consumers and wait until they run it (lethe lag), then prewarm");
        }
    }

    private static void check(LetheConfig config, Collection<NamespaceConfig> namespaces, RegionConfig region, RegionRedis redis,
            List<String> problems) {
        String group = RegionApply.groupId(config, region.name());
        Optional<TopicMove.Fed> fed = TopicMove.recorded(redis, group);
        if (fed.isEmpty()) {
            problems.add("region " + region.name() + "'s Redis records no configuration it was fed under (" + TopicMove.markerKey(group)
                    + ": its consumer never ran there, or its Redis was emptied)");
            return;
        }
        // the file's feed of this region, compared as the region's consumer compares it with its marker (FedDiff): one rule
        TopicMove.Fed file = ConfiguredFeed.of(config, region, fed.get().cluster());
        Set<String> rekeyed = FedDiff.rekeyed(fed.get(), file);
        for (NamespaceConfig ns : namespaces) {
            List<String> keys = fed.get().rendered().get(ns.name());
            List<String> holds = fed.get().holds().get(ns.name());
            if (keys == null || holds == null) {
                // the region tolerates a marker of an older version that records nothing; a copy needs it recorded
                problems.add("region " + region.name() + "'s Redis records nothing of how namespace " + ns.name()
                        + " is keyed and versioned there (its consumer does not run this version or this file yet)");
            } else if (!file.receives().contains(ns.name()) || rekeyed.contains(ns.name())) {
                problems.add("region " + region.name() + " was fed namespace " + ns.name() + " as " + keys + " " + holds + ", while "
                        + config.file() + " has " + ns.keysRendered() + " " + ns.holdsRendered());
            }
        }
    }
}
