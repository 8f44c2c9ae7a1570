package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a configuration feeds a region's Redis ({@link TopicMove.Fed}): what a region's consumer compares with its
 * Redis's marker at start-up ({@link StartupFeed}) and prewarm with both regions' markers ({@code FedAlike}), built
 * in one place so both judge the same record.
 */
public final class ConfiguredFeed {
    private ConfiguredFeed() {
    }

    /**
     * What {@code config} feeds {@code region}'s Redis: its topic, the namespaces it receives and, for each, its globs,
     * templates and patterns and what its entries hold; read on the Kafka cluster {@code cluster} (null: not known).
     */
    public static TopicMove.Fed of(LetheConfig config, RegionConfig region, String cluster) {
        List<String> receives = config.receives(region);
        Map<String, List<String>> globs = new TreeMap<>();
        Map<String, List<String>> rendered = new TreeMap<>();
        Map<String, List<String>> holds = new TreeMap<>();
        for (String ns : receives) {
            NamespaceConfig namespace = config.namespaces().get(ns);
            globs.put(ns, namespace.namespaceGlobs());
            rendered.put(ns, namespace.keysRendered());
            holds.put(ns, namespace.holdsRendered());
        }
        return new TopicMove.Fed(config.topics().invalidations(region.name()), receives, globs, rendered, cluster, holds);
    }
}
