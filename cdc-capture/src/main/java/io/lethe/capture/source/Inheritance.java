package io.lethe.capture.source;

import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Table inheritance ({@code CREATE TABLE child (...) INHERITS (parent)}, the partitioning of
 * schemas older than declarative partitions): a query of the parent reads every inheriting
 * table's rows, but PostgreSQL publishes an inheriting table's changes under its own name
 * ({@code publish_via_partition_root} is for partitions only). A namespace on the parent would
 * see none of them, and an entry it holds of such a row would never be invalidated. So each table
 * inheriting from a configured one, at any depth, needs a namespace of its own that renders every
 * key and pattern of each of the parent's namespaces, with the same version source (its
 * invalidations then reach exactly the keys the parent's readers fill). One rule for the start-up
 * checks, {@code lethe doctor} and the source watch.
 */
final class Inheritance {
    private Inheritance() {
    }

    /**
     * Why the changes of rows {@code table} reads through inheritance would be missed, with the fix;
     * empty when every inheriting table is covered.
     *
     * @param kind       the table's relkind: only a plain table ({@code r}) has inheriting tables
     * @param inheriting every table inheriting from it, directly or not, as {@code schema.table}
     */
    public static Optional<CheckResult> problem(LetheConfig config, String table, String kind, List<String> inheriting) {
        if (!"r".equals(kind) || inheriting.isEmpty()) {
            return Optional.empty();
        }
        // capture shards: a shard's view holds only its own tables' namespaces, so an inheriting table of another shard
        // cannot be judged here; its parent's shard must read it (its changes carry its own name, and whichever shard
        // captures it publishes them, but the two must be judged together)
        List<String> elsewhere = inheriting.stream().filter(child -> !config.tables().contains(child))
                .filter(child -> config.source().shards().values().stream().anyMatch(sh -> sh.tables().contains(child))).toList();
        if (!elsewhere.isEmpty()) {
            return Optional.of(CheckResult.fail("table " + table, table + " has table(s) inheriting from it " + elsewhere
                    + " in another capture shard: a query of " + table + " reads their rows, and whether their namespaces carry "
                    + table + "'s keys is judged where both are captured",
                    "put " + String.join(", ", elsewhere) + " in the shard that captures " + table + " (source.shards.<name>.tables in "
                            + config.file() + ")"));
        }
        Set<String> uncovered = new LinkedHashSet<>();
        Set<NamespaceConfig> unseen = new LinkedHashSet<>();
        for (NamespaceConfig parent : config.namespacesForTable(table)) {
            for (String child : inheriting) {
                boolean covered = config.namespacesForTable(child).stream().anyMatch(ns -> ns.version().equals(parent.version())
                        && ns.keysRendered().containsAll(parent.keysRendered()));
                if (!covered) {
                    uncovered.add(child);
                    unseen.add(parent);
                }
            }
        }
        if (uncovered.isEmpty()) {
            return Optional.empty();
        }
        List<String> fixes = new ArrayList<>();
        for (String child : uncovered) {
            for (NamespaceConfig parent : unseen) {
                fixes.add(suggestion(parent, child));
            }
        }
        return Optional.of(CheckResult.fail("table " + table, table + " has table(s) inheriting from it " + List.copyOf(uncovered)
                + ": a query of " + table + " reads their rows, but PostgreSQL publishes their changes under their own names, "
                + "so namespace(s) " + unseen.stream().map(NamespaceConfig::name).toList() + " would never see them and "
                + "entries of those rows would stay stale",
                "in " + config.file() + ", give each inheriting table a namespace with the keys, patterns and version of "
                        + unseen.stream().map(n -> "namespaces." + n.name()).collect(Collectors.joining(", ")) + " (and the table a "
                        + "primary key: it does not inherit one): " + String.join("; ", fixes)
                        + "; or make it stop inheriting (ALTER TABLE <table> NO INHERIT " + table + ";)"));
    }

    private static String suggestion(NamespaceConfig parent, String child) {
        StringBuilder s = new StringBuilder(parent.name() + "_" + child.substring(child.indexOf('.') + 1) + ": { table: " + child
                + ", keys: [" + parent.keys().stream().map(KeyTemplate::text).map(t -> "\"" + t + "\"").collect(Collectors.joining(", "))
                + "]");
        if (!parent.patterns().isEmpty()) {
            s.append(", patterns: [").append(parent.patterns().stream().map(p -> "\"" + p + "\"").collect(Collectors.joining(", ")))
                    .append("]");
        }
        if (!parent.version().isLsn()) {
            s.append(", version: \"").append(parent.version()).append("\"");
        }
        return s.append(" }").toString();
    }
}
