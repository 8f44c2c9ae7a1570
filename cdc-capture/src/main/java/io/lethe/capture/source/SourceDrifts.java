package io.lethe.capture.source;

import io.lethe.capture.source.Drift.Kind;
import io.lethe.capture.source.SourceState.Leaf;
import io.lethe.capture.source.SourceState.Publication;
import io.lethe.capture.source.SourceState.Table;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What capture's correctness depends on in the source, as rules over {@link SourceState}s: which
 * conditions hide changes now ({@link #ongoing}), and which differences from the state capture
 * relied on may have hidden changes for a while ({@link #since}). Pure: no database.
 *
 * <p>Everything here is a way for a committed row change never to reach capture while heartbeats
 * (and so every lag) stay healthy: the publication missing or re-created, publishing only some
 * operations, under the partitions' names, or only some rows or columns; a table out of the
 * publication (or dropped from it and added back), re-created under its name (an online
 * schema-change tool's swap), UNLOGGED (a partition of a published table may be set UNLOGGED, and
 * under FOR ALL TABLES or FOR TABLES IN SCHEMA any table may, and back, which only the new
 * relfilenode shows), or partitions attached or detached (their rows appear or vanish without a
 * change), or the slot gone while capture streams.
 */
final class SourceDrifts {
    private SourceDrifts() {
    }

    /** The conditions that hide changes of configured tables now, each with its fix. */
    public static List<Drift> ongoing(LetheConfig config, SourceState now) {
        return ongoing(config, now, false);
    }

    /**
     * {@link #ongoing} for an existing connector's publication ({@code source.mode: debezium-topics}):
     * its slot is not looked at (its plugin and state are the connector's), and a publication that
     * leaves out only TRUNCATE hides nothing (every rewrite of a table resets it in this mode:
     * {@link TableDrifts#since}).
     */
    public static List<Drift> connectorHiding(LetheConfig config, SourceState now) {
        return ongoing(config, now, true);
    }

    private static List<Drift> ongoing(LetheConfig config, SourceState now, boolean connector) {
        List<Drift> out = new ArrayList<>();
        String pub = config.source().publication();
        Publication p = now.publication();
        if (p == null) {
            out.add(new Drift(Kind.PUBLICATION, config.tables(), "publication " + pub + " does not exist: no change is decoded",
                    "CREATE PUBLICATION " + pub + " FOR TABLE " + String.join(", ", published(config))
                            + " WITH (publish_via_partition_root = true);",
                    true));
            return out;
        }
        String slot = config.source().slot();
        SourceState.Slot sl = now.slot();
        if (connector) {
            // the connector's slot: not Lethe's to judge
        } else if (sl == null || "lost".equals(sl.walStatus()) || !"pgoutput".equals(sl.plugin())
                || !config.source().database().equals(sl.database())) {
            out.add(new Drift(Kind.SLOT, config.tables(), "replication slot " + slot + (sl == null
                    ? " does not exist"
                    : "lost".equals(sl.walStatus())
                            ? " lost WAL it needs (wal_status = lost)"
                            : " is a " + sl.plugin() + " slot of database " + sl.database())
                    + ": capture cannot stream on from it",
                    "none while capture runs: it stops once Debezium gives up on the slot, and its next start makes a new slot and "
                            + "resets every namespace (if this repeats, raise max_slot_wal_keep_size; never drop a slot capture uses)",
                    true));
        }
        if (connector ? !(p.insert() && p.update() && p.delete()) : !p.publishesEverything()) {
            out.add(new Drift(Kind.PUBLICATION_OPTIONS, config.tables(), "publication " + pub + " publishes only " + operations(p)
                    + ": the other changes are never decoded", publishFix(pub), true));
        }
        for (Map.Entry<String, Table> e : now.tables().entrySet()) {
            String name = e.getKey();
            Table t = e.getValue();
            if (!t.exists()) {
                continue; // nothing of it can change; the start-up checks and the table check say it is missing
            }
            Optional<Drift> hiding = tableHiding(config, name, t);
            if (hiding.isPresent()) {
                out.add(hiding.get());
                if (hiding.get().kind() != Kind.INHERITANCE) {
                    continue;
                }
            }
            if ("p".equals(t.kind()) && !p.viaRoot()) {
                out.add(new Drift(Kind.PUBLICATION_OPTIONS, List.of(name), "publication " + pub + " publishes the changes of partitioned "
                        + name + " under its partitions' names, which no namespace captures",
                        "ALTER PUBLICATION " + pub + " SET (publish_via_partition_root = true);", true));
            }
            if (t.membership().isEmpty()) {
                out.add(new Drift(Kind.MEMBERSHIP, List.of(name),
                        name + " is not in publication " + pub + ": none of its changes is decoded",
                        "ALTER PUBLICATION " + pub + " ADD TABLE " + name + ";", true));
                continue;
            }
            Set<String> hiddenColumns = new LinkedHashSet<>();
            if (!t.columnList().isEmpty()) {
                config.namespacesForTable(name).forEach(ns -> hiddenColumns.addAll(ns.requiredColumns()));
                hiddenColumns.removeAll(t.columnList());
            }
            if (t.rowFilter() || !hiddenColumns.isEmpty()) {
                out.add(new Drift(Kind.PUBLICATION_OPTIONS, List.of(name), "publication " + pub + " publishes "
                        + (t.rowFilter() ? "only the rows of " + name + " that match a row filter" : "")
                        + (t.rowFilter() && !hiddenColumns.isEmpty() ? ", and " : "")
                        + (hiddenColumns.isEmpty() ? "" : "a column list of " + name + " without " + hiddenColumns),
                        "BEGIN; ALTER PUBLICATION " + pub + " DROP TABLE " + name + "; ALTER PUBLICATION " + pub + " ADD TABLE " + name
                                + "; COMMIT;",
                        true));
            }
        }
        return out;
    }

    /**
     * The conditions of the tables themselves that hide changes now, whoever decodes them (no
     * publication or slot is looked at): a table PostgreSQL cannot publish (UNLOGGED, a view, a
     * foreign table, ...), or one inherited from by a table no namespace carries.
     */
    public static List<Drift> tablesHiding(LetheConfig config, SourceState now) {
        List<Drift> out = new ArrayList<>();
        for (Map.Entry<String, Table> e : now.tables().entrySet()) {
            if (e.getValue().exists()) {
                tableHiding(config, e.getKey(), e.getValue()).ifPresent(out::add);
            }
        }
        return out;
    }

    private static Optional<Drift> tableHiding(LetheConfig config, String name, Table t) {
        Optional<CheckResult> unpublishable = unpublishable(config, name, t);
        if (unpublishable.isPresent()) {
            boolean table = "r".equals(t.kind()) || "p".equals(t.kind());
            return Optional.of(new Drift(table && t.oid() >= 16384 ? Kind.PERSISTENCE : Kind.IDENTITY, List.of(name),
                    unpublishable.get().message(), unpublishable.get().fix(), true));
        }
        return Inheritance.problem(config, name, t.kind(), t.leaves().stream().map(Leaf::name).toList())
                .map(inherited -> new Drift(Kind.INHERITANCE, List.of(name), inherited.message(), inherited.fix(), true));
    }

    /**
     * What may have hidden changes between {@code before} (the state capture relied on) and
     * {@code now}, even when it is over: every drift here is a gap whose changes are unknown.
     *
     * @param emptyPartition whether a leaf partition has never held a row (no storage): one
     *                       made or attached empty hid nothing, one attached with rows hid their
     *                       INSERTs (a new partition written since is taken as such: its rows
     *                       may have been there before)
     */
    public static List<Drift> since(LetheConfig config, SourceState before, SourceState now, Predicate<Leaf> emptyPartition) {
        return since(config, before, now, emptyPartition, false);
    }

    /**
     * {@link #since}, for a reader of {@code before}'s publication; {@code everyRewrite}: as
     * {@link TableDrifts#since}.
     */
    public static List<Drift> since(LetheConfig config, SourceState before, SourceState now, Predicate<Leaf> emptyPartition,
            boolean everyRewrite) {
        List<Drift> out = new ArrayList<>();
        String pub = config.source().publication();
        Publication b = before.publication();
        Publication n = now.publication();
        if (b == null || n == null || b.oid() != n.oid()) {
            if (b != null || n != null) {
                out.add(new Drift(Kind.PUBLICATION, config.tables(), "publication " + pub + " was "
                        + (n == null ? "dropped" : b == null ? "made" : "dropped and made again")
                        + ": PostgreSQL cannot decode the slot's changes past that point, and none in between is known", "", false));
            }
            return out;
        }
        if (!Objects.equals(b.version(), n.version())) {
            out.add(new Drift(Kind.PUBLICATION_OPTIONS, config.tables(), "publication " + pub + "'s options were changed"
                    + (b.publishesEverything() && n.publishesEverything() && b.viaRoot() == n.viaRoot()
                            ? " and changed back (publish, publish_via_partition_root)"
                            : " (now publish " + operations(n)
                                    + ", publish_via_partition_root " + n.viaRoot() + ")")
                    + ": changes decoded meanwhile may have been left out", "", false));
        }
        out.addAll(TableDrifts.since(config, before, now, emptyPartition, true, everyRewrite));
        return out;
    }

    /** The namespaces whose keys {@code drifts} may have left stale. */
    public static List<String> namespaces(LetheConfig config, List<Drift> drifts) {
        Set<String> tables = new LinkedHashSet<>();
        drifts.forEach(d -> tables.addAll(d.tables()));
        return tables.stream().flatMap(t -> config.namespacesForTable(t).stream()).map(NamespaceConfig::name).distinct().toList();
    }

    private static Optional<CheckResult> unpublishable(LetheConfig config, String name, Table t) {
        return Publishable.problem(config, name, t.oid(), t.kind(), t.persistence(),
                t.leaves().stream().map(l -> new Publishable.Leaf(l.name(), l.kind(), l.persistence())).toList());
    }

    /** The fix of a publication that leaves out some operations. */
    public static String publishFix(String publication) {
        return "ALTER PUBLICATION " + publication + " SET (publish = 'insert, update, delete, truncate');";
    }

    private static String operations(Publication p) {
        List<String> ops = new ArrayList<>();
        if (p.insert()) {
            ops.add("insert");
        }
        if (p.update()) {
            ops.add("update");
        }
        if (p.delete()) {
            ops.add("delete");
        }
        if (p.truncate()) {
            ops.add("truncate");
        }
        return ops.isEmpty() ? "nothing" : "'" + String.join(", ", ops) + "'";
    }

    private static List<String> published(LetheConfig config) {
        List<String> tables = new ArrayList<>(config.tables());
        tables.add(config.source().heartbeatTable());
        return tables;
    }
}
