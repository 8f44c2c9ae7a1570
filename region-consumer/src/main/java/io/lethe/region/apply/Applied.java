package io.lethe.region.apply;

import java.util.List;
import java.util.Map;

/**
 * What a batch did.
 *
 * @param results  counted by metric tag (deleted, kept-newer, absent, upserted, refused, ...)
 * @param poisoned keys Redis refused for good, widened where Redis allowed it
 */
record Applied(Map<String, Integer> results, List<Poisoned> poisoned) {
}
