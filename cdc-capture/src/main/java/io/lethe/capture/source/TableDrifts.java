package io.lethe.capture.source;

import io.lethe.capture.source.Drift.Kind;
import io.lethe.capture.source.SourceState.Leaf;
import io.lethe.capture.source.SourceState.Table;
import io.lethe.config.LetheConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The rules over the configured tables themselves between two {@link SourceState}s, whoever
 * decodes their changes (capture through its publication, or an existing connector): a table
 * re-created or swapped, set UNLOGGED or LOGGED, rewritten where that can hide changes, DDL that
 * changed values ({@link ColumnDrifts}), partitions or inheriting tables attached, detached or
 * rewritten. {@link SourceDrifts} adds the publication's and the slot's. Pure: no database.
 */
final class TableDrifts {
    private TableDrifts() {
    }

    /**
     * The drifts of the tables themselves between {@code before} and {@code now}: re-created or
     * swapped, made UNLOGGED, rewritten under implicit membership, DDL that changed values
     * ({@link Kind#RETYPED}), partitions or inheriting tables attached or detached with rows.
     *
     * @param publication whether capture decodes through the configured publication: then a table
     *                    newly configured and one whose membership changed count too (an existing
     *                    connector's reader, {@code source.mode: debezium-topics}, passes false
     *                    while the connector's publication is not known)
     * @param everyRewrite whether any rewrite of a plain table counts (TRUNCATE, VACUUM FULL, CLUSTER):
     *                    an existing connector may skip truncates (Debezium's {@code skipped.operations}
     *                    leaves them out by default), and only the new relfilenode shows one; capture
     *                    decodes them, so for it only a rewrite that may hide an UNLOGGED spell counts
     */
    static List<Drift> since(LetheConfig config, SourceState before, SourceState now, Predicate<Leaf> emptyPartition,
            boolean publication, boolean everyRewrite) {
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
            } else if (everyRewrite && was.relfilenode() != is.relfilenode() && "r".equals(is.kind())) {
                out.add(new Drift(Kind.REWRITTEN, List.of(name), name + " was rewritten (TRUNCATE, which the connector may skip, "
                        + "VACUUM FULL, CLUSTER, or a type change: only its new storage shows which)", "", false));
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
}
