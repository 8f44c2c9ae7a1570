package io.lethe.capture.source;

import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.keys.PgTypes;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The checks of the configured tables: they exist, are tables PostgreSQL publishes ({@link
 * Publishable}: not UNLOGGED, not a view, ...), have the columns the namespaces need and a
 * primary key matching theirs, log old rows (REPLICA IDENTITY FULL, on every partition) where
 * key templates use non-key columns, and give every key template column a type with a defined
 * key rendering ({@link PgTypes}). These can drift while capture runs, so it re-runs them.
 */
final class TableChecks {
    private final LetheConfig config;

    public TableChecks(LetheConfig config) {
        this.config = config;
    }

    /**
     * The checks of the configured tables only (columns, primary key, REPLICA IDENTITY of the
     * table and its partitions): what can drift while capture runs, so it re-runs them periodically.
     */
    public List<CheckResult> tables(Connection c) throws SQLException {
        List<CheckResult> results = new ArrayList<>();
        for (String table : config.tables()) {
            results.addAll(check(table, TableInfo.read(c, table)));
        }
        return results;
    }

    List<CheckResult> check(String table, TableInfo info) {
        List<CheckResult> results = new ArrayList<>();
        String check = "table " + table;
        if (!info.exists()) {
            results.add(CheckResult.fail(check, "table " + table + " does not exist in database " + config.source().database(),
                    "create it, or fix " + config.namespacesForTable(table).stream().map(n -> "namespaces." + n.name() + ".table")
                            .collect(Collectors.joining(", ")) + " in " + config.file()));
            return results;
        }
        Optional<CheckResult> unpublishable = Publishable.problem(config, table, info.oid(), info.kind(), info.persistence(),
                info.leaves());
        if (unpublishable.isPresent()) {
            results.add(unpublishable.get());
            return results;
        }
        Optional<CheckResult> inherited = Inheritance.problem(config, table, info.kind(),
                info.leaves().stream().map(Publishable.Leaf::name).toList());
        if (inherited.isPresent()) {
            results.add(inherited.get());
            return results;
        }
        List<String> configuredAncestors = info.ancestors().stream().filter(config.tables()::contains).toList();
        if (!configuredAncestors.isEmpty()) {
            // the publication holds the ancestor and publishes via the root: this partition's changes carry the ancestor's name
            results.add(CheckResult.fail(check, table + " is a partition of " + configuredAncestors.get(0) + ", which is configured too: "
                    + "PostgreSQL publishes " + table + "'s changes under " + configuredAncestors.get(0) + "'s name, so none reaches "
                    + "namespaces " + config.namespacesForTable(table).stream().map(n -> n.name()).toList(),
                    "put the namespaces of " + table + " on " + configuredAncestors.get(0) + " (namespaces.<name>.table in "
                            + config.file() + ")"));
            return results;
        }
        List<String> problems = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        boolean needsFullIdentity = false;
        for (NamespaceConfig ns : config.namespacesForTable(table)) {
            Set<String> missing = new LinkedHashSet<>(ns.requiredColumns());
            missing.removeAll(info.columns());
            if (!missing.isEmpty()) {
                problems.add("namespace " + ns.name() + " needs column(s) " + missing + " that " + table + " does not have");
                fixes.add("fix the key templates, payload-columns or version of namespaces." + ns.name() + " in " + config.file());
            }
            if (!info.primaryKey().isEmpty() && !Set.copyOf(ns.primaryKey()).equals(Set.copyOf(info.primaryKey()))) {
                problems.add(
                        "namespace " + ns.name() + " declares primary-key " + ns.primaryKey() + " but the table's is " + info.primaryKey());
                fixes.add("set namespaces." + ns.name() + ".primary-key: " + info.primaryKey() + " in " + config.file());
            }
            if (!ns.nonKeyTemplateColumns().isEmpty() && !"f".equals(info.replicaIdentity())) {
                needsFullIdentity = true;
                problems.add("namespace " + ns.name() + " keys use non-key column(s) " + ns.nonKeyTemplateColumns()
                        + ", so updates must carry the old row to invalidate the old key, but REPLICA IDENTITY is "
                        + identityName(info.replicaIdentity()));
            }
            if (!ns.nonKeyTemplateColumns().isEmpty() && !info.partitionsWithoutFullIdentity().isEmpty()) {
                problems.add("namespace " + ns.name() + " keys use non-key column(s) " + ns.nonKeyTemplateColumns()
                        + ", but partition(s) " + info.partitionsWithoutFullIdentity() + " of " + table
                        + " do not have REPLICA IDENTITY FULL (each partition logs its own old rows)");
                info.partitionsWithoutFullIdentity().forEach(part -> fixes.add("ALTER TABLE " + part + " REPLICA IDENTITY FULL;"));
            }
        }
        for (NamespaceConfig ns : config.namespacesForTable(table)) {
            List<String> generated = ns.requiredColumns().stream()
                    .filter(column -> info.types().containsKey(column) && info.types().get(column).generated()).toList();
            if (!generated.isEmpty()) {
                // never in a change: each would widen every change's keys to the template's glob (a scan of the keyspace per
                // change), delete at 2^64 - 1 for want of a version, or turn every upsert into a delete
                problems.add("namespace " + ns.name() + " uses GENERATED column(s) " + generated + " of " + table
                        + ", which PostgreSQL's logical replication does not publish (none before 18; 18 only with the "
                        + "publication's publish_generated_columns, which Lethe does not set), so no change would carry them");
                fixes.add("use the columns they are computed from in the keys, version or payload-columns of namespaces." + ns.name()
                        + " in " + config.file() + ", or make them plain columns (ALTER TABLE " + table + " ALTER COLUMN "
                        + generated.get(0) + " DROP EXPRESSION;).");
            }
        }
        for (NamespaceConfig ns : config.namespacesForTable(table)) {
            for (KeyTemplate template : ns.keys()) {
                for (String column : template.columns()) {
                    TableInfo.ColumnType type = info.types().get(column);
                    if (type == null) {
                        continue; // a missing column, reported above
                    }
                    Optional<String> refusal = PgTypes.refusal(type.name(), type.baseType(), type.typtype(), type.array());
                    if (refusal.isPresent()) {
                        problems.add("namespace " + ns.name() + " key template '" + template + "' uses column " + table + "." + column
                                + ", whose " + refusal.get());
                        fixes.add(PgTypes.fix(table, column, template.text()) + " (namespaces." + ns.name() + ".keys in " + config.file()
                                + ").");
                    }
                }
            }
        }
        if (info.primaryKey().isEmpty()) {
            problems.add(table + " has no primary key; Lethe keys changes and row-scoped entries by it");
            fixes.add("ALTER TABLE " + table + " ADD PRIMARY KEY (...);");
        }
        if (needsFullIdentity) {
            fixes.add("ALTER TABLE " + table + " REPLICA IDENTITY FULL;");
        }
        if (problems.isEmpty()) {
            results.add(CheckResult.pass(check, table + " has every column Lethe needs (replica identity "
                    + identityName(info.replicaIdentity()) + ")"));
        } else {
            results.add(CheckResult.fail(check, String.join("; ", problems), String.join("  ", fixes)));
        }
        return results;
    }

    private static String identityName(String code) {
        return switch (code == null ? "" : code) {
            case "d" -> "DEFAULT (primary key)";
            case "f" -> "FULL";
            case "i" -> "USING INDEX";
            case "n" -> "NOTHING";
            default -> "unknown";
        };
    }
}
