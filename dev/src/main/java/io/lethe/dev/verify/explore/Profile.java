package io.lethe.dev.verify.explore;

import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What a seed may generate: the features, the column types, and the sizes. Named profiles are
 * starting points; {@code --with}, {@code --without} and {@code --types} change them, and the
 * resulting profile is printed with every run so that a seed can be replayed exactly.
 *
 * @param name      the profile it started from
 * @param features  what may be generated
 * @param types     the type switch ({@link TypeCatalog#select})
 * @param steps     workload steps per seed
 * @param maxTxRows the largest transaction, in rows
 * @param maxTables tables per seed (at least one)
 */
record Profile(String name, Set<Feature> features, String types, int steps, int maxTxRows, int maxTables) {
    /**
     * The types whose values Lethe rendered as PostgreSQL's own text before the rendering rule
     * (issue 27, item 15): a baseline run that leaves out the rendering class. (name is not among them:
     * Debezium passes its values as NULL, so a key on it was never rendered; it is refused now.)
     */
    static final String PLAIN_TYPES = "int2,int4,int8,oid,text,varchar,uuid,domain,domain_int,enum";

    private static final Map<String, Profile> NAMED = new LinkedHashMap<>();

    static {
        Set<Feature> all = EnumSet.allOf(Feature.class);
        // stage-order is left out of ci to keep ExploreIT's time (and its seeds' programs) as they were:
        // -Dlethe.explore.with=stage-order (or --with stage-order) adds it
        // odd-names too (its programs would differ): -Dlethe.explore.with=odd-names; and config-change
        // (-Dlethe.explore.with=config-change)
        Set<Feature> inProcess = EnumSet
                .complementOf(EnumSet.of(Feature.KILL, Feature.STAGE_ORDER, Feature.ODD_NAMES, Feature.CONFIG_CHANGE));
        NAMED.put("all", new Profile("all", all, "all", 60, 30_000, 3));
        NAMED.put("ci", new Profile("ci", inProcess, "all", 24, 2_000, 2));
        // features no item of issue 27 names: what must already hold on main
        Set<Feature> baseline = EnumSet.of(Feature.COMPOSITE_KEY, Feature.NON_ID_KEY, Feature.NON_PUBLIC_SCHEMA, Feature.PARTITIONED,
                Feature.DERIVED_KEY, Feature.PATTERN, Feature.UPSERT, Feature.TWO_NAMESPACES_PER_TABLE,
                Feature.SUBSCRIPTIONS, Feature.DELETE, Feature.TRUNCATE, Feature.KEY_CHANGE, Feature.GROUP_CHANGE, Feature.SAVEPOINT,
                Feature.BIG_TRANSACTION, Feature.ADD_COLUMN, Feature.DROP_COLUMN, Feature.RENAME_COLUMN, Feature.RETYPE_COLUMN,
                Feature.RESTART_STAGE, Feature.BROKER_RESTART, Feature.SLOW_LOAD, Feature.NEGATIVE);
        NAMED.put("baseline", new Profile("baseline", baseline, PLAIN_TYPES, 40, 5_000, 2));
    }

    Profile {
        features = Set.copyOf(features.isEmpty() ? EnumSet.noneOf(Feature.class) : EnumSet.copyOf(features));
        TypeCatalog.select(types); // fails on a bad switch
    }

    static Profile named(String name) {
        Profile p = NAMED.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no profile '" + name + "'; known: " + String.join(", ", NAMED.keySet()));
        }
        return p;
    }

    static Set<String> names() {
        return NAMED.keySet();
    }

    boolean has(Feature f) {
        return features.contains(f);
    }

    /** This profile with features added (comma-separated ids or families). */
    Profile with(String spec) {
        EnumSet<Feature> f = features.isEmpty() ? EnumSet.noneOf(Feature.class) : EnumSet.copyOf(features);
        for (String part : spec.split(",")) {
            if (!part.isBlank()) {
                f.addAll(Feature.named(part.trim()));
            }
        }
        return new Profile(name, f, types, steps, maxTxRows, maxTables);
    }

    /** This profile with features removed (comma-separated ids or families). */
    Profile without(String spec) {
        EnumSet<Feature> f = features.isEmpty() ? EnumSet.noneOf(Feature.class) : EnumSet.copyOf(features);
        for (String part : spec.split(",")) {
            if (!part.isBlank()) {
                f.removeAll(Feature.named(part.trim()));
            }
        }
        return new Profile(name, f, types, steps, maxTxRows, maxTables);
    }

    Profile withTypes(String spec) {
        return new Profile(name, features, spec, steps, maxTxRows, maxTables);
    }

    Profile withSteps(int n) {
        return new Profile(name, features, types, n, maxTxRows, maxTables);
    }

    Profile withMaxTxRows(int n) {
        return new Profile(name, features, types, steps, n, maxTables);
    }

    /** The switches that reproduce this profile from its name, e.g. {@code --profile ci --without kill --types int4}. */
    String switches() {
        Profile base = NAMED.get(name);
        StringBuilder sb = new StringBuilder("--profile " + name);
        if (base != null) {
            EnumSet<Feature> added = EnumSet.noneOf(Feature.class);
            EnumSet<Feature> removed = EnumSet.noneOf(Feature.class);
            for (Feature f : Feature.values()) {
                if (features.contains(f) && !base.features.contains(f)) {
                    added.add(f);
                }
                if (!features.contains(f) && base.features.contains(f)) {
                    removed.add(f);
                }
            }
            if (!added.isEmpty()) {
                sb.append(" --with ").append(String.join(",", added.stream().map(Feature::id).toList()));
            }
            if (!removed.isEmpty()) {
                sb.append(" --without ").append(String.join(",", removed.stream().map(Feature::id).toList()));
            }
            if (!types.equals(base.types)) {
                sb.append(" --types ").append(types);
            }
            if (steps != base.steps) {
                sb.append(" --steps ").append(steps);
            }
            if (maxTxRows != base.maxTxRows) {
                sb.append(" --max-tx-rows ").append(maxTxRows);
            }
        }
        return sb.toString();
    }
}
