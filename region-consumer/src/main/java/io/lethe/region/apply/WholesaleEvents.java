package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The namespace-wide invalidations a region makes on its own ({@link RestoreReplay}: a Redis or a
 * log that lost what was applied, a topic move, a first feed): one per glob of each namespace's
 * keys, deleting whatever is there.
 */
final class WholesaleEvents {
    private static final Logger LOG = LoggerFactory.getLogger(WholesaleEvents.class);

    private final LetheConfig config;
    private final RegionConfig region;
    private final Clock clock;

    WholesaleEvents(LetheConfig config, RegionConfig region, Clock clock) {
        this.config = config;
        this.region = region;
        this.clock = clock;
    }

    /** Namespace-wide invalidations of every namespace of the region, deleting whatever is there. */
    List<InvalidationEvent> all(String why) {
        return of(why, 0, region.namespaces(), Map.of());
    }

    /**
     * As {@link #all(String)} for {@code namespaces}, at source position {@code lsn}: in upsert namespaces every
     * upsert at or below it is then applied as a delete (the wide watermark), so a replay of
     * older upserts cannot write back what the invalidation removed.
     */
    List<InvalidationEvent> of(String why, long lsn, List<String> namespaces, Map<String, List<String>> formerGlobs) {
        List<InvalidationEvent> events = new ArrayList<>();
        long now = clock.millis() * 1000;
        for (String name : namespaces) {
            List<String> globs;
            if (config.namespaces().containsKey(name)) {
                // and the globs its keys had when the marker was written, when its keys changed meanwhile
                LinkedHashSet<String> both = new LinkedHashSet<>(config.namespaces().get(name).namespaceGlobs());
                both.addAll(formerGlobs.getOrDefault(name, List.of()));
                globs = List.copyOf(both);
            } else if (formerGlobs.containsKey(name)) {
                globs = formerGlobs.get(name); // no longer configured: by the globs its keys had while it was
            } else {
                LOG.warn("region {}: namespace {} is no longer configured and no glob of its keys was recorded while it was "
                        + "(a marker written before they were): its entries in this Redis stay until their TTL", region.name(), name);
                continue;
            }
            for (String glob : globs) {
                events.add(new InvalidationEvent(InvalidationEvent.SCHEMA_ID, why + ":" + name + ":" + glob, name, Scope.NAMESPACE,
                        null, glob, Action.DELETE, null, Versions.MAX, lsn, null, now, now, now, null, Op.RESET, null, null));
            }
        }
        return events;
    }
}
