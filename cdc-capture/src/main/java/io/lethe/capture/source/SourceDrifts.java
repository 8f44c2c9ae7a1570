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
import java.util.stream.Collectors;

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
        if (sl == null || "lost".equals(sl.walStatus()) || !"pgoutput".equals(sl.plugin())
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
        if (!p.publishesEverything()) {
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
        out.addAll(tablesSince(config, before, now, emptyPartition, true));
        return out;
    }

    /**
     * The drifts of the tables themselves between {@code before} and {@code now}: re-created or
     * swapped, made UNLOGGED, rewritten under implicit membership, DDL that changed values
     * ({@link Kind#RETYPED}), partitions or inheriting tables attached or detached with rows.
     *
     * @param publication whether capture decodes through the configured publication: then a table
     *                    newly configured and one whose membership changed count too (an existing
     *                    connector's reader, {@code source.mode: debezium-topics}, passes false)
     */
    public static List<Drift> tablesSince(LetheConfig config, SourceState before, SourceState now, Predicate<Leaf> emptyPartition,
            boolean publication) {
        String pub = config.source().publication();
        List<Drift> out = new ArrayList<>();
        for (Map.Entry<String, Table> e : now.tables().entrySet()) {
            String name = e.getKey();
            Table was = before.tables().get(name);
            Table is = e.getValue();
            if (was == null) {
                if (!publication) {
                    continue;
                }
                // newly configured: nothing of it was decoded before, yet readers (or a region receiving its keys) may hold
                // its rows; reset at an LSN read once it is in the publication, like any drift
                out.add(new Drift(Kind.ADDED, List.of(name), name + " is configured since capture last ran: its changes before it "
                        + "entered publication " + pub + " were never decoded", "", false));
                continue;
            }
            if (was.oid() != is.oid()) {
                out.add(new Drift(Kind.IDENTITY, List.of(name), name + (is.exists()
                        ? " is another relation than before (re-created, "
                                + "or swapped in by a rename): its rows changed without a change capture saw"
                        : " was dropped or renamed away"),
                        "", false));
                continue;
            }
            if (!was.exists()) {
                continue;
            }
            if (publication && !was.membership().equals(is.membership())) {
                out.add(new Drift(Kind.MEMBERSHIP, List.of(name), name + (is.membership().isEmpty()
                        ? " was dropped from publication "
                                + pub
                        : " was dropped from publication " + pub + " and added back") + ", so its changes in between were not decoded",
                        "", false));
            }
            if (!Objects.equals(was.persistence(), is.persistence())) {
                out.add(new Drift(Kind.PERSISTENCE, List.of(name),
                        name + " was set " + ("u".equals(is.persistence()) ? "UNLOGGED" : "LOGGED")
                                + ": its changes while UNLOGGED were never logged",
                        "", false));
            } else if (is.implicitMember() && was.relfilenode() != is.relfilenode() && "r".equals(is.kind())) {
                out.add(new Drift(Kind.REWRITTEN, List.of(name), name + " was rewritten (TRUNCATE, VACUUM FULL, CLUSTER, a type change, "
                        + "or SET UNLOGGED and SET LOGGED again, which its publication " + pub + " allows and no change shows)", "",
                        false));
            }
            ColumnDrifts.retyped(name, was, is).ifPresent(out::add);
            partitions(name, was, is, emptyPartition).ifPresent(out::add);
        }
        return out;
    }

    /**
     * The partitions' drift of one partitioned table, or of the tables inheriting from a plain one
     * (INHERIT and NO INHERIT make rows appear and vanish the same way): leaves attached, detached,
     * made UNLOGGED, or rewritten.
     */
    private static Optional<Drift> partitions(String name, Table was, Table is, Predicate<Leaf> emptyPartition) {
        Map<Long, Leaf> before = was.leaves().stream().collect(Collectors.toMap(Leaf::oid, l -> l));
        Map<Long, Leaf> now = is.leaves().stream().collect(Collectors.toMap(Leaf::oid, l -> l));
        List<String> detached = before.values().stream().filter(l -> !now.containsKey(l.oid())).map(Leaf::name).toList();
        List<String> attached = now.values().stream().filter(l -> !before.containsKey(l.oid()))
                .filter(l -> !emptyPartition.test(l)).map(Leaf::name).toList();
        List<String> unlogged = now.values().stream().filter(l -> before.containsKey(l.oid()))
                .filter(l -> !Objects.equals(before.get(l.oid()).persistence(), l.persistence())).map(Leaf::name).toList();
        List<String> rewritten = now.values().stream().filter(l -> before.containsKey(l.oid()) && !unlogged.contains(l.name()))
                .filter(l -> before.get(l.oid()).relfilenode() != l.relfilenode()).map(Leaf::name).toList();
        String members = "r".equals(is.kind()) ? "inheriting table(s) " : "partition(s) "; // a plain table's leaves inherit from it
        if (!unlogged.isEmpty()) {
            return Optional.of(new Drift(Kind.PERSISTENCE, List.of(name), members + unlogged + " of " + name
                    + " were set UNLOGGED or LOGGED: their changes while UNLOGGED were never logged", "", false));
        }
        if (!detached.isEmpty() || !attached.isEmpty()) {
            return Optional.of(new Drift(Kind.PARTITIONS, List.of(name), (detached.isEmpty()
                    ? ""
                    : members + detached
                            + " left " + name + " (their rows vanished without a DELETE)")
                    + (detached.isEmpty() || attached.isEmpty() ? "" : "; ")
                    + (attached.isEmpty() ? "" : members + attached + " joined " + name + " with rows (they appeared without an INSERT)"),
                    "", false));
        }
        if (!rewritten.isEmpty()) {
            return Optional.of(new Drift(Kind.REWRITTEN, List.of(name), members + rewritten + " of " + name + " were rewritten "
                    + "(TRUNCATE, VACUUM FULL, or SET UNLOGGED and SET LOGGED again, which PostgreSQL allows for a partition of a "
                    + "published table and no change shows)", "", false));
        }
        return Optional.empty();
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
