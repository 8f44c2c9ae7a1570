package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Whether PostgreSQL publishes the changes of a relation at all. Logical decoding sees only what
 * is written to the WAL as row changes of permanent tables: an UNLOGGED or temporary table writes
 * none, a view or a materialized view has no row changes (a refresh is not decoded), a foreign
 * table's rows live on another server, and system catalogs are never published. A partitioned
 * table is published through its partitions, and a plain table's query reads the tables inheriting
 * from it, so each leaf or inheriting table must be publishable too. One rule for
 * the start-up checks, {@code lethe doctor} and the source watch.
 */
final class Publishable {
    /** PostgreSQL's FirstNormalObjectId: relations below it were made by initdb (the catalogs, information_schema). */
    static final long FIRST_NORMAL_OID = 16384;

    private Publishable() {
    }

    /** One leaf partition, as {@code schema.table}, with its pg_class relkind and relpersistence. */
    public record Leaf(String name, String kind, String persistence) {
    }

    /**
     * Why the changes of {@code table} cannot be captured, with the fix; empty when they can.
     *
     * @param oid         the table's pg_class oid
     * @param kind        its relkind ({@code r} table, {@code p} partitioned, {@code v} view, ...)
     * @param persistence its relpersistence ({@code p} permanent, {@code u} unlogged, {@code t} temporary)
     * @param leaves      the leaf partitions of a partitioned table, or the tables inheriting from a plain one
     */
    public static Optional<CheckResult> problem(LetheConfig config, String table, long oid, String kind, String persistence,
            List<Leaf> leaves) {
        String check = "table " + table;
        String elsewhere = "configure the table(s) that hold the rows instead (" + config.namespacesForTable(table).stream()
                .map(n -> "namespaces." + n.name() + ".table").collect(Collectors.joining(", ")) + " in " + config.file() + ")";
        if (oid < FIRST_NORMAL_OID) {
            return Optional.of(CheckResult.fail(check, table + " is a system catalog: PostgreSQL never publishes its changes", elsewhere));
        }
        String what = switch (kind) {
            case "r", "p" -> null;
            case "v" -> "a view: it has no row changes of its own";
            case "m" -> "a materialized view: REFRESH MATERIALIZED VIEW is not decoded";
            case "f" -> "a foreign table: its rows live on another server, whose changes this database never logs";
            default -> "not a table (relkind " + kind + ")";
        };
        if (what != null) {
            return Optional.of(CheckResult.fail(check, table + " is " + what + ", and PostgreSQL publishes only tables", elsewhere));
        }
        if ("u".equals(persistence)) {
            return Optional.of(CheckResult.fail(check, table + " is UNLOGGED: PostgreSQL writes none of its changes to the WAL, "
                    + "so none can be captured", "ALTER TABLE " + table + " SET LOGGED;"));
        }
        if ("t".equals(persistence)) {
            return Optional.of(CheckResult.fail(check, table + " is a temporary table: it lives in one session and logs no changes",
                    elsewhere));
        }
        List<String> problems = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        boolean inherits = "r".equals(kind); // a plain table's leaves are the tables inheriting from it
        String member = inherits ? "inheriting table " : "partition ";
        for (Leaf leaf : leaves) {
            if ("f".equals(leaf.kind())) {
                problems.add(member + leaf.name() + " is a foreign table, whose changes this database never logs");
                fixes.add(inherits
                        ? "ALTER TABLE " + leaf.name() + " NO INHERIT " + table + ";"
                        : "ALTER TABLE " + table + " DETACH PARTITION " + leaf.name() + ";");
            } else if ("u".equals(leaf.persistence())) {
                problems.add(member + leaf.name() + " is UNLOGGED: PostgreSQL writes none of its changes to the WAL");
                fixes.add("ALTER TABLE " + leaf.name() + " SET LOGGED;");
            }
        }
        if (!problems.isEmpty()) {
            return Optional.of(CheckResult.fail(check, table + ": " + String.join("; ", problems), String.join("  ", fixes)));
        }
        return Optional.empty();
    }
}
