package io.lethe.region.apply;

import java.util.List;
import java.util.Map;

/**
 * What a batch did.
 *
 * @param results    counted by metric tag (deleted, kept-newer, absent, upserted, refused, ...)
 * @param poisoned   keys Redis refused for good, widened where Redis allowed it
 * @param otherHolds the namespaces whose upserts were undone because the region's Redis recorded other holds
 *                   for them once the upserts were acknowledged, with what it recorded ({@link UpsertHolds}); empty: none
 */
record Applied(Map<String, Integer> results, List<Poisoned> poisoned, Map<String, String> otherHolds) {
    Applied(Map<String, Integer> results, List<Poisoned> poisoned) {
        this(results, poisoned, Map.of());
    }
}
