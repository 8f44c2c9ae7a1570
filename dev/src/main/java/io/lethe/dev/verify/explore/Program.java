package io.lethe.dev.verify.explore;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Everything one seed generated, as data: the schema, the namespaces over it, how readers read,
 * and the steps (transactions, DDL, synchronous reads, faults, pauses) the writer runs one after
 * the other. A program is replayed from this data alone (saved as JSON), so a shrunk or recorded
 * reproduction does not depend on the generator staying the same.
 *
 * @param seed       the seed it was generated from (0 for a hand-made one)
 * @param profile    the switches it was generated with, for the report
 * @param regions    how many regions it was generated for (steps name regions by index)
 * @param tables     the tables, created before the pipeline starts
 * @param namespaces the namespaces of lethe.yml (the sentinel's is added by the run)
 * @param partialRegionNamespaces when not empty, the last region subscribes to these namespaces only
 * @param readers    how the background and synchronous readers behave
 * @param steps      what the writer does, in order
 */
record Program(long seed, String profile, int regions, List<Table> tables, List<Namespace> namespaces,
        List<String> partialRegionNamespaces, Readers readers, List<Step> steps) {

    Program {
        tables = List.copyOf(tables);
        namespaces = List.copyOf(namespaces);
        partialRegionNamespaces = List.copyOf(partialRegionNamespaces);
        steps = List.copyOf(steps);
    }

    Table table(String qualified) {
        return tables.stream().filter(t -> t.qualified().equals(qualified)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no table " + qualified));
    }

    Optional<Namespace> namespace(String name) {
        return namespaces.stream().filter(n -> n.name().equals(name)).findFirst();
    }

    Program withSteps(List<Step> newSteps) {
        return new Program(seed, profile, regions, tables, namespaces, partialRegionNamespaces, readers, newSteps);
    }

    Program withReaders(Readers newReaders) {
        return new Program(seed, profile, regions, tables, namespaces, partialRegionNamespaces, newReaders, steps);
    }

    /** This program without namespace {@code name}, and without its table when no other namespace uses it. */
    Program withoutNamespace(String name) {
        List<Namespace> ns = new ArrayList<>(namespaces.stream().filter(n -> !n.name().equals(name)).toList());
        List<Table> ts = tables.stream().filter(t -> ns.stream().anyMatch(n -> n.table().equals(t.qualified()))).toList();
        List<Step> st = steps.stream().filter(s -> (s.table() == null || ts.stream().anyMatch(t -> t.qualified().equals(s.table())))
                && (s.kind() != Step.Kind.READ && s.kind() != Step.Kind.CHECK && s.kind() != Step.Kind.CONFIG || !s.a().equals(name)))
                .toList();
        List<String> partial = partialRegionNamespaces.stream().filter(n -> !n.equals(name)).toList();
        return new Program(seed, profile, regions, ts, ns, partial, readers, st);
    }

    /** This program with namespace {@code name} replaced. */
    Program withNamespace(Namespace replacement) {
        List<Namespace> ns = namespaces.stream().map(n -> n.name().equals(replacement.name()) ? replacement : n).toList();
        return new Program(seed, profile, regions, tables, ns, partialRegionNamespaces, readers, steps);
    }

    Program withTable(Table replacement) {
        List<Table> ts = tables.stream().map(t -> t.qualified().equals(replacement.qualified()) ? replacement : t).toList();
        return new Program(seed, profile, regions, ts, namespaces, partialRegionNamespaces, readers, steps);
    }

    /**
     * The configuration a {@link Step.Kind#CONFIG} step leads to (the same steps): a namespace's version
     * source set, or a namespace added to or removed from the last region's subscriptions. A change that
     * does not apply (the namespace is gone, there is no partial region, the region already caches it,
     * or it is the only namespace the region caches) leaves the program as it is.
     */
    Program configuredBy(Step step) {
        if (step.kind() != Step.Kind.CONFIG) {
            throw new IllegalArgumentException("not a configuration change: " + step.describe());
        }
        Optional<Namespace> ns = namespace(step.a());
        if (ns.isEmpty()) {
            return this;
        }
        String change = step.b();
        if (change.startsWith(VERSION_CHANGE)) {
            String version = change.substring(VERSION_CHANGE.length());
            if (!version.equals("lsn") && !version.equals("column:ver")) {
                throw new IllegalArgumentException("a version source is lsn or column:ver, not '" + version + "': " + step.describe());
            }
            return withNamespace(ns.get().withVersion(version));
        }
        List<String> partial = new ArrayList<>(partialRegionNamespaces);
        switch (change) {
            case "subscribe" -> {
                if (partial.isEmpty() || partial.contains(step.a())) {
                    return this;
                }
                partial.add(step.a());
            }
            case "unsubscribe" -> {
                if (partial.size() <= 1 || !partial.remove(step.a())) {
                    return this;
                }
            }
            default -> throw new IllegalArgumentException("no configuration change '" + change + "': " + step.describe());
        }
        List<String> ordered = namespaces.stream().map(Namespace::name).filter(partial::contains).toList();
        return new Program(seed, profile, regions, tables, namespaces, ordered, readers, steps);
    }

    /** The configuration in force after every step ({@link #configuredBy} of each CONFIG step, in order). */
    Program atEnd() {
        Program p = this;
        for (Step s : steps) {
            if (s.kind() == Step.Kind.CONFIG) {
                p = p.configuredBy(s);
            }
        }
        return p;
    }

    /** A CONFIG step's change of version source starts with this, then {@code lsn} or {@code column:ver}. */
    static final String VERSION_CHANGE = "version ";

    Program withoutPartialRegion() {
        return new Program(seed, profile, regions, tables, namespaces, List.of(), readers, steps);
    }

    /** A column of a table. {@code role}: key, part (the partition key, also a key column), rid, group, val, n, ver or extra. */
    record Column(String name, String type, String role) {
        PgType pgType() {
            return TypeCatalog.get(type);
        }

        boolean partOfKey() {
            return role.equals("key") || role.equals("part");
        }
    }

    /**
     * A table. Every row has a number ({@code rid}) its key and other columns are computed from,
     * so statements can name rows and ranges of rows whatever the key's types.
     *
     * @param replicaFull whether it starts with REPLICA IDENTITY FULL (derived keys need it)
     * @param rows        rows inserted before the pipeline starts (rids 1..rows)
     * @param groups      how many distinct values group columns take
     */
    record Table(String schema, String name, List<Column> columns, boolean partitioned, boolean replicaFull, int rows, int groups) {
        Table {
            columns = List.copyOf(columns);
        }

        String qualified() {
            return schema + "." + name;
        }

        List<Column> keyColumns() {
            return columns.stream().filter(Column::partOfKey).toList();
        }

        List<Column> withRole(String role) {
            return columns.stream().filter(c -> c.role().equals(role)).toList();
        }

        Column column(String name) {
            return columns.stream().filter(c -> c.name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no column " + name + " in " + qualified()));
        }

        Table withRows(int newRows) {
            return new Table(schema, name, columns, partitioned, replicaFull, newRows, groups);
        }
    }

    /**
     * A key template: {@code <prefix><namespace>:<tag>:} then its columns joined by {@code #}.
     *
     * @param tag     distinguishes the namespace's templates (r: row, p: part of a composite key, d: derived)
     * @param columns the template's columns
     */
    record Template(String tag, List<String> columns) {
        Template {
            columns = List.copyOf(columns);
        }

        /** The template as lethe.yml writes it. */
        String text(String prefix, String namespace) {
            StringBuilder sb = new StringBuilder(literal(prefix, namespace));
            for (int i = 0; i < columns.size(); i++) {
                sb.append(i == 0 ? "" : SEPARATOR).append('{').append(columns.get(i)).append('}');
            }
            return sb.toString();
        }

        /** The literal text every key of this template starts with. */
        String literal(String prefix, String namespace) {
            return prefix + namespace + ":" + tag + ":";
        }

        /**
         * The key in SQL, from PostgreSQL's own text of each column: what the application builds,
         * computed without Lethe's renderer.
         */
        String sql(String prefix, String namespace) {
            StringBuilder sb = new StringBuilder("'" + literal(prefix, namespace).replace("'", "''") + "'");
            for (int i = 0; i < columns.size(); i++) {
                if (i > 0) {
                    sb.append(" || '").append(SEPARATOR).append('\'');
                }
                sb.append(" || ").append(Truth.keyText(quote(columns.get(i)) + "::text"));
            }
            return sb.toString();
        }

        /** True when every column is non-null (a NULL column renders no key). */
        String notNull() {
            return String.join(" AND ", columns.stream().map(c -> quote(c) + " IS NOT NULL").toList());
        }

        static final String SEPARATOR = "#";
    }

    /**
     * A namespace.
     *
     * @param keys     its templates (row-scoped over the whole key, over part of it, or derived)
     * @param patterns globs relative to the run's prefix, ending in {@code *}; readers cache {@code <glob without *>count}
     * @param version  {@code lsn} or {@code column:ver}
     * @param mode     {@code delete} or {@code upsert} (payload: {@code val} and {@code n})
     * @param fenceTtl lethe.yml duration, also the readers' fence TTL
     * @param negativeTtlMillis how long readers cache "no row" (0: not at all)
     */
    record Namespace(String name, String table, List<Template> keys, List<String> patterns, String version, String mode,
            String fenceTtl, long negativeTtlMillis) {
        Namespace {
            keys = List.copyOf(keys);
            patterns = List.copyOf(patterns);
        }

        boolean upsert() {
            return mode.equals("upsert");
        }

        boolean columnVersion() {
            return version.startsWith("column:");
        }

        Template template(String tag) {
            return keys.stream().filter(k -> k.tag().equals(tag)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no template " + tag + " in " + name));
        }

        Namespace withKeys(List<Template> newKeys) {
            return new Namespace(name, table, newKeys, patterns, version, mode, fenceTtl, negativeTtlMillis);
        }

        Namespace withPatterns(List<String> newPatterns) {
            return new Namespace(name, table, keys, newPatterns, version, mode, fenceTtl, negativeTtlMillis);
        }

        Namespace withVersion(String newVersion) {
            return new Namespace(name, table, keys, patterns, newVersion, mode, fenceTtl, negativeTtlMillis);
        }
    }

    /**
     * How readers behave.
     *
     * @param background      readers in every region reading all along, besides the synchronous reads of steps
     * @param slowPercent     share of loads that sleep before returning
     * @param maxSlowMillis   the longest such sleep
     * @param nearCache       readers keep a near cache
     * @param tokens          background reads carry the writer's last read-your-writes token
     * @param lsnFills        loads of row keys of {@code lsn} namespaces tag their fills with an LSN read while the
     *                        row is locked {@code FOR SHARE} (every change the load does not reflect comes after it),
     *                        as a loader that knows the LSN does; else they fill without a version
     */
    record Readers(boolean background, int slowPercent, int maxSlowMillis, boolean nearCache, boolean tokens, boolean lsnFills) {
    }

    static String quote(String identifier) {
        return identifier.matches("[a-z_][a-z0-9_]*") ? identifier : "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
