package io.lethe.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a new configuration would move, next to the one running ({@code lethe config --check new.yml
 * --against running.yml}): per region, whether its topic or the namespaces it receives change, and
 * so what the region's {@code TopicMove} will invalidate wholesale at its first start under the new
 * one; regions added and removed; namespaces added, removed, or whose keys change; and which step of
 * a rotation of {@code streams.watermark-key} it is, lossy or not ({@link SigningKeyChanges}). Said
 * before the rollout, so nobody learns it from a cold cache (or from entries left stale).
 *
 * @param lines what changes, one finding a line, in the order of the regions and namespaces
 * @param moves true when a running region's cache is affected (a move, a wholesale invalidation,
 *              entries left to their TTL, or upserts refused by a lossy change of the signing key): the
 *              rollout needs the order the lines give
 */
public record ConfigChanges(List<String> lines, boolean moves) {
    /**
     * What decides which keys a namespace's rows have and how they are invalidated: the templates
     * as written (two templates with one glob, {@code product:{id}} and {@code product:{sku}}, name
     * other keys), the patterns, and what its entries hold (the table, the version source, the mode
     * and the upsert payload: {@link NamespaceConfig#holdsRendered}), the same text a region's
     * marker records.
     */
    private static List<String> keysOf(NamespaceConfig ns) {
        // as sets, as a region compares them: reordering templates or patterns moves nothing
        List<String> out = new ArrayList<>(List.of("keys " + new TreeSet<>(ns.keys().stream().map(KeyTemplate::text).toList()),
                "patterns " + new TreeSet<>(ns.patterns())));
        out.addAll(ns.holdsRendered());
        return out;
    }

    public static ConfigChanges between(LetheConfig running, LetheConfig next) {
        List<String> out = new ArrayList<>();
        boolean moves = false;
        for (RegionConfig region : next.regions().values()) {
            String topic = next.topics().invalidations(region.name());
            List<String> receives = next.receives(region);
            RegionConfig before = running.regions().get(region.name());
            if (before == null) {
                out.add("region " + region.name() + ": new; reads " + topic + ", receives " + receives
                        + "; it starts from what its Redis holds (empty, or filled by lethe prewarm before it takes reads)");
                continue;
            }
            String oldTopic = running.topics().invalidations(region.name());
            List<String> oldReceives = running.receives(before);
            if (!oldTopic.equals(topic)) {
                Set<String> all = new TreeSet<>(oldReceives);
                all.addAll(receives);
                out.add("region " + region.name() + ": moves from " + oldTopic + " to " + topic + " (receives " + oldReceives + " -> "
                        + receives + "); at its first start it waits until streams writes " + topic
                        + " under the new configuration, then invalidates " + all + " wholesale once (a cold cache)");
                moves = true;
            } else if (!new TreeSet<>(oldReceives).equals(new TreeSet<>(receives))) {
                Set<String> changed = new TreeSet<>(oldReceives);
                changed.addAll(receives);
                Set<String> both = new TreeSet<>(oldReceives);
                both.retainAll(receives);
                changed.removeAll(both);
                out.add("region " + region.name() + ": stays on " + topic + " but receives " + oldReceives + " -> " + receives
                        + "; at its first start it waits until streams routes the new configuration, then invalidates " + changed
                        + " wholesale once");
                moves = true;
            } else if (!running.routes(topic).equals(next.routes(topic))) {
                out.add("region " + region.name() + ": unchanged on " + topic + ", which carries other namespaces now (streams' "
                        + "routes " + running.routes(topic) + " -> " + next.routes(topic) + ")");
            } else {
                out.add("region " + region.name() + ": unchanged (reads " + topic + ")");
            }
        }
        for (RegionConfig gone : running.regions().values()) {
            if (!next.regions().containsKey(gone.name())) {
                out.add("region " + gone.name() + ": removed; its consumer group " + next.apply().groupPrefix() + gone.name()
                        + " and its Redis are no longer fed (stop its consumers; its Redis goes stale from then on)");
                moves = true;
            }
        }
        for (NamespaceConfig ns : next.namespaces().values()) {
            NamespaceConfig old = running.namespaces().get(ns.name());
            if (old == null) {
                out.add("namespace " + ns.name() + ": new (" + ns.table() + ")");
            } else if (!keysOf(old).equals(keysOf(ns))) {
                out.add("namespace " + ns.name() + ": its keys change " + keysOf(old) + " -> " + keysOf(ns)
                        + "; entries under the old keys or versions get no invalidation any more: each region that receives it "
                        + "invalidates it wholesale (by its old and new globs) at its first start, once streams runs the new "
                        + "configuration; roll out its readers first (an entry a reader on the old configuration fills after "
                        + "that stays until its TTL). A region whose marker a version before 2026-12-07 wrote records no table, "
                        + "version source, mode or payload: upgrade first, and change those in a rollout of their own");
                moves = true;
            }
        }
        for (NamespaceConfig old : running.namespaces().values()) {
            if (!next.namespaces().containsKey(old.name())) {
                out.add("namespace " + old.name() + ": removed; each region that received it invalidates it wholesale at its first "
                        + "start, by the globs its Redis recorded (a Redis fed only before they were recorded keeps its entries "
                        + "until their TTL)");
                moves = true;
            }
        }
        if (running.publicTopicComplete() != next.publicTopicComplete()) {
            out.add("the public topic " + (next.publicTopicComplete() ? "becomes complete" : "is no longer complete")
                    + ": regions subscribed to every namespace " + (next.publicTopicComplete() ? "move to it" : "move off it"));
        }
        if (next.regions().keySet().stream().anyMatch(r -> !next.topics().invalidations(r).equals(next.topics().invalidations()))) {
            // both files are read with today's naming: a deployment upgraded from before it is on the old names
            out.add("note: a region whose topic was named before 2026-12-07 (" + next.kafka().topicPrefix()
                    + ".invalidations.<first region of its subscription set>) moves to its set's topic once, at its first start "
                    + "on this version: it invalidates its namespaces wholesale then (a cold cache)");
        }
        if (moves) {
            out.add("roll out the readers first, then capture and streams, then the regions (a moved region waits for streams to "
                    + "run the new configuration; streams holds capture's watermarks until capture runs it too)");
        }
        Optional<SigningKeyChanges.Finding> keys = SigningKeyChanges.between(running.streams(), next.streams());
        keys.ifPresent(k -> out.add(k.line()));
        // a lossy key step affects caches as a move does (entries left stale): the check fails on it too
        return new ConfigChanges(List.copyOf(out), moves || keys.map(SigningKeyChanges.Finding::lossy).orElse(false));
    }

    /**
     * These changes with a line for each signing key both files, as written ({@code runningYaml},
     * {@code nextYaml}), take from the same {@code ${...}}: its value comes from each stage's
     * environment, so {@link #between} could not compare it ({@link EnvironmentKeys}). The check
     * does not fail for it: it cannot know whether the secret changes.
     */
    public ConfigChanges withKeysFromEnvironment(String runningYaml, String nextYaml) {
        List<String> notCompared = EnvironmentKeys.notCompared(runningYaml, nextYaml);
        if (notCompared.isEmpty()) {
            return this;
        }
        List<String> all = new ArrayList<>(lines);
        all.addAll(notCompared);
        return new ConfigChanges(List.copyOf(all), moves);
    }
}
