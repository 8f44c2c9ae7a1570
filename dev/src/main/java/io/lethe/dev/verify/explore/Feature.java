package io.lethe.dev.verify.explore;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * A class of schema, namespace, operation, fault or read the generator may draw, each switchable
 * on its own ({@code --with}, {@code --without}) so a run can leave out a class whose fix has not
 * landed yet and look for others.
 */
enum Feature {
    // schema
    COMPOSITE_KEY("schema", "primary keys of 2-3 columns of mixed types"), NON_ID_KEY("schema",
            "key columns named and typed other than id int"), NON_PUBLIC_SCHEMA("schema",
                    "tables in schemas other than public"), PARTITIONED("schema", "tables partitioned by LIST on a key column"), ODD_NAMES(
                            "schema",
                            "columns no namespace uses, and enum labels, named with spaces, quotes, dots, capitals, non-ASCII and control characters (ASCII 29-31 too)"),
    // namespaces
    DERIVED_KEY("namespace", "templates over a non-key group column (REPLICA IDENTITY FULL)"), PATTERN("namespace",
            "namespace patterns, read as list keys"), SHARED_PATTERN("namespace", "one pattern in two namespaces"), COLUMN_VERSION(
                    "namespace", "version: column:ver, readers tag fills with ver"), UPSERT("namespace",
                            "mode: upsert with payload columns"), TWO_NAMESPACES_PER_TABLE("namespace",
                                    "two namespaces over one table"), SUBSCRIPTIONS("namespace",
                                            "a region subscribed to some namespaces only"),
    // workload
    DELETE("workload", "DELETE of rows"), TRUNCATE("workload", "TRUNCATE"), KEY_CHANGE("workload",
            "UPDATEs of primary-key columns (and moves across partitions)"), GROUP_CHANGE("workload",
                    "UPDATEs moving rows between groups of derived keys, NULL groups"), SAVEPOINT("workload",
                            "savepoints rolled back and released inside transactions"), BIG_TRANSACTION("workload",
                                    "transactions of hundreds to --max-tx-rows rows"),
    // DDL while running
    ADD_COLUMN("ddl", "ALTER TABLE ADD COLUMN"), DROP_COLUMN("ddl",
            "ALTER TABLE DROP COLUMN (of a column no namespace uses)"), RENAME_COLUMN("ddl",
                    "ALTER TABLE RENAME COLUMN (of a column no namespace uses)"), RETYPE_COLUMN("ddl",
                            "ALTER COLUMN TYPE of a column no namespace uses"), RETYPE_KEY_COLUMN("ddl",
                                    "ALTER COLUMN TYPE of a group column a derived key uses"), REWRITE_VALUES("ddl",
                                            "ALTER COLUMN ... TYPE to the same type with a USING that changes every value of a column readers cache"), ENUM_RENAME(
                                                    "ddl",
                                                    "ALTER TYPE ... RENAME VALUE of the enum a key or group column holds, and two labels swapped"), REPLICA_IDENTITY(
                                                            "ddl", "REPLICA IDENTITY DEFAULT and back to FULL"), PUBLICATION("ddl",
                                                                    "a table dropped from the publication and added back"), TABLE_SWAP(
                                                                            "ddl",
                                                                            "a table replaced by a copy (create, copy, rename, drop), as online schema-change tools do"), PARTITION_DETACH(
                                                                                    "ddl", "a partition detached and attached again"),
    // faults
    RESTART_STAGE("fault", "capture, streams or a region consumer stopped and started again"), KILL("fault",
            "kill -9 of a stage process (stages run as child processes)"), REDIS_RDB("fault",
                    "a region's Redis restarted from an RDB snapshot taken earlier"), REDIS_AOF("fault",
                            "a region's Redis killed -9 and restarted from its AOF"), BROKER_RESTART("fault",
                                    "the Kafka broker stopped and started again"), PARTITION_EXPANSION("fault",
                                            "partitions added to the changes and region topics"), STAGE_ORDER("fault",
                                                    "two or more stages stopped (clean, or kill -9 with kill) and started again in a drawn order, "
                                                            + "upstream ones last at times, with writes, DDL and Redis restarts while some are down"), CONFIG_CHANGE(
                                                                    "fault",
                                                                    "the configuration changed across a restart of every stage: a namespace's version source flipped "
                                                                            + "(lsn <-> column:ver), a namespace added to or removed from a region's subscriptions"),
    // readers
    SLOW_LOAD("reader", "loads that sleep before returning, some beyond fence-ttl"), NEAR_CACHE("reader",
            "readers with a near cache"), TOKEN("reader",
                    "read-your-writes reads with the writer's token"), NEGATIVE("reader", "negative caching of keys whose row is gone");

    private final String family;
    private final String description;

    Feature(String family, String description) {
        this.family = family;
        this.description = description;
    }

    String family() {
        return family;
    }

    String description() {
        return description;
    }

    /** The name used on the command line: lower case with dashes. */
    String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static Feature of(String id) {
        return Arrays.stream(values()).filter(f -> f.id().equals(id)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "no feature '" + id + "'; known: " + String.join(", ", Arrays.stream(values()).map(Feature::id).toList())));
    }

    /** Every feature of {@code family}, or the one named {@code name}. */
    static Set<Feature> named(String name) {
        EnumSet<Feature> out = EnumSet.noneOf(Feature.class);
        for (Feature f : values()) {
            if (f.family.equals(name)) {
                out.add(f);
            }
        }
        if (out.isEmpty()) {
            out.add(of(name));
        }
        return out;
    }
}
