package io.lethe.dev.verify.scenario;

import java.sql.SQLException;
import java.util.Optional;
import java.util.function.Function;

/**
 * The data most scenarios share: {@code items(id, grp, slug, val, ver)} cached under a row-scoped
 * key {@code item:{id}} (payload: val), a derived key {@code grp:{grp}:items} (payload: the vals
 * of the group, comma-separated in id order) and a derived key {@code slug:{slug}} (payload: val).
 */
final class Items {
    private Items() {
    }

    /** Creates the table (REPLICA IDENTITY FULL, as start-up requires for derived keys) with rows 1..n in groups of 2. */
    static void create(ScenarioRun run, int rows) throws SQLException {
        run.sql("CREATE TABLE items (id int, grp int NOT NULL, slug text, val text, ver bigint, PRIMARY KEY (id))",
                "ALTER TABLE items REPLICA IDENTITY FULL");
        insert(run, 1, rows);
    }

    /**
     * Creates {@code items} partitioned by ranges of 100 ids, with its first partition
     * ({@code items_p0}, ids 1-100) only; {@link #addPartition} attaches more.
     */
    static void createPartitioned(ScenarioRun run, int rows) throws SQLException {
        run.sql("CREATE TABLE items (id int, grp int NOT NULL, slug text, val text, ver bigint, PRIMARY KEY (id)) PARTITION BY RANGE (id)",
                "ALTER TABLE items REPLICA IDENTITY FULL");
        addPartition(run, 0);
        insert(run, 1, rows);
    }

    /** Creates partition {@code n} (ids 100n+1 to 100n+100) with REPLICA IDENTITY FULL. */
    static void addPartition(ScenarioRun run, int n) throws SQLException {
        run.sql("CREATE TABLE items_p" + n + " PARTITION OF items FOR VALUES FROM (" + (100 * n + 1) + ") TO (" + (100 * n + 101) + ")",
                "ALTER TABLE items_p" + n + " REPLICA IDENTITY FULL");
    }

    /** Rows {@code from..to}: group (id + 1) / 2, slug s{id}, val v{id}.0, version 1. */
    static void insert(ScenarioRun run, int from, int to) throws SQLException {
        run.sql("INSERT INTO items SELECT i, (i + 1) / 2, 's' || i, 'v' || i || '.0', 1 FROM generate_series(" + from + ", " + to + ") i");
    }

    /** The namespace YAML; {@code extra} is added to the namespace (e.g. a version source). */
    static String namespace(ScenarioRun run, String extra) {
        String p = run.p();
        return """
                item:
                  table: public.items
                  keys: ["%sitem:{id}", "%sgrp:{grp}:items", "%sslug:{slug}"]
                %s""".formatted(p, p, p, extra.isEmpty() ? "" : extra.indent(2));
    }

    /** The value the database holds now for one of the items' keys; null for other keys. */
    static Function<String, Optional<String>> truth(ScenarioRun run) {
        String p = run.p();
        return key -> {
            try {
                if (key.startsWith(p + "item:")) {
                    return Optional.ofNullable(run.query("SELECT val FROM items WHERE id = ?",
                            Integer.parseInt(key.substring((p + "item:").length()))));
                }
                if (key.startsWith(p + "grp:") && key.endsWith(":items")) {
                    String grp = key.substring((p + "grp:").length(), key.length() - ":items".length());
                    return Optional.ofNullable(run.query("SELECT string_agg(val, ',' ORDER BY id) FROM items WHERE grp = ?",
                            Integer.parseInt(grp)));
                }
                if (key.startsWith(p + "slug:")) {
                    return Optional.ofNullable(run.query("SELECT val FROM items WHERE slug = ?", key.substring((p + "slug:").length())));
                }
                return null;
            } catch (SQLException e) {
                throw new IllegalStateException("reading the database's value of " + key, e);
            }
        };
    }

    /** The current value of every key of the rows' groups, filled everywhere as a reader would (version given). */
    static void fillCurrent(ScenarioRun run, String version, int... ids) throws SQLException {
        Function<String, Optional<String>> truth = truth(run);
        for (int id : ids) {
            String item = run.p() + "item:" + id;
            run.fillEverywhere(item, version, truth.apply(item).orElseThrow());
            String grp = run.p() + "grp:" + run.query("SELECT grp FROM items WHERE id = ?", id) + ":items";
            run.fillEverywhere(grp, "0", truth.apply(grp).orElseThrow());
            String slug = run.p() + "slug:" + run.query("SELECT slug FROM items WHERE id = ?", id);
            run.fillEverywhere(slug, "0", truth.apply(slug).orElseThrow());
        }
    }
}
