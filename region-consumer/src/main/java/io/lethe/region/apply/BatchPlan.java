package io.lethe.region.apply;

import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Versions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one poll batch does to Redis: for every key of a namespace only its highest-version event
 * (events of a key share a partition, so a batch sees them all in order; the rest are
 * superseded), and every distinct pattern of a namespace once at its highest version. On equal
 * versions a delete wins over an upsert. Events of different namespaces are never merged: their
 * versions need not be comparable ({@code lsn} and {@code column:} namespaces), and each carries
 * its namespace's fence TTL, mode and epoch.
 *
 * @param keys       one event per namespace and key
 * @param patterns   one event per namespace, scope and pattern
 * @param superseded events made redundant by a newer one for the same key or pattern of the same namespace
 */
public record BatchPlan(List<InvalidationEvent> keys, List<InvalidationEvent> patterns, int superseded) {

    public static BatchPlan of(List<InvalidationEvent> events) {
        Map<String, InvalidationEvent> byKey = new LinkedHashMap<>();
        Map<String, InvalidationEvent> byPattern = new LinkedHashMap<>();
        int superseded = 0;
        for (InvalidationEvent e : events) {
            Map<String, InvalidationEvent> target = e.scope().isPattern() ? byPattern : byKey;
            String id = e.namespace() + '\0' + (e.scope().isPattern() ? e.scope().code() + ":" + e.pattern() : e.key());
            InvalidationEvent current = target.get(id);
            if (current == null) {
                target.put(id, e);
                continue;
            }
            superseded++;
            if (wins(e, current)) {
                target.put(id, e);
            }
        }
        return new BatchPlan(List.copyOf(byKey.values()), List.copyOf(byPattern.values()), superseded);
    }

    private static boolean wins(InvalidationEvent candidate, InvalidationEvent current) {
        int c = Versions.compare(candidate.version(), current.version());
        return c > 0 || c == 0 && candidate.action() == Action.DELETE && current.action() == Action.UPSERT;
    }

    public List<InvalidationEvent> all() {
        List<InvalidationEvent> all = new ArrayList<>(keys);
        all.addAll(patterns);
        return all;
    }
}
