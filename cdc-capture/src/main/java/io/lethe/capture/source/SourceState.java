package io.lethe.capture.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Everything of the source that decides whether PostgreSQL publishes the configured tables'
 * changes to capture, read in one catalog query: the publication (its identity, the version of
 * its row, its {@code publish} options and {@code publish_via_partition_root}) and, per
 * configured table, its identity (oid), kind, persistence and storage (relfilenode), how it
 * belongs to the publication (each membership row has an oid of its own, so a table dropped from
 * the publication and added back is told apart), row filter and column list, and its leaf
 * partitions (of a plain table: every table inheriting from it). Capture keeps the state it relied
 * on and compares ({@link SourceDrifts}).
 *
 * @param publication the publication, or null when it does not exist
 * @param tables      per configured table ({@code schema.table}), in configuration order
 * @param slot        the replication slot, or null when it does not exist (not compared with an
 *                    earlier state: a slot has no identity; see SlotRecovery for one made again)
 */
record SourceState(Publication publication, Map<String, Table> tables, Slot slot) {
    /** Separates the entries of a column's shape (ASCII group separator), escaped inside an entry. */
    static final String SHAPE_SEPARATOR = "\u001d";
    private static final String ESCAPE = "\u001b";
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    public SourceState {
        tables = Collections.unmodifiableMap(new LinkedHashMap<>(tables));
    }

    /**
     * @param oid       pg_publication's oid: a publication dropped and made again has another
     * @param version   the xmin of its pg_publication row: every ALTER PUBLICATION ... SET writes a
     *                  new one, so options changed and changed back still show
     * @param allTables FOR ALL TABLES
     */
    public record Publication(long oid, String version, boolean allTables, boolean insert, boolean update, boolean delete,
            boolean truncate, boolean viaRoot) {
        /** True when INSERT, UPDATE, DELETE and TRUNCATE are all published. */
        public boolean publishesEverything() {
            return insert && update && delete && truncate;
        }
    }

    /**
     * @param oid         0 when no relation has the configured name
     * @param kind        pg_class.relkind ({@code r} table, {@code p} partitioned, {@code v} view, ...)
     * @param persistence pg_class.relpersistence ({@code p} permanent, {@code u} unlogged, {@code t} temporary)
     * @param relfilenode its storage: a new one after any rewrite (TRUNCATE, VACUUM FULL, SET LOGGED / UNLOGGED)
     * @param membership  how the publication holds it: {@code all}, {@code rel:<pg_publication_rel oid>},
     *                    {@code schema:<pg_publication_namespace oid>}, comma-separated; empty when it does not
     * @param rowFilter   the publication publishes only rows matching a WHERE clause
     * @param columnList  the columns the publication publishes of it; empty when all
     * @param leaves      leaf partitions of a partitioned table, or every table inheriting from a plain
     *                    table (INHERITS, at any depth), by oid: their rows are read through it
     * @param columns     its columns with their types (and an enum's labels): DDL that changes them
     *                    can change every row's value without a row change; empty in a state stored
     *                    before they were recorded
     * @param former      columns of a state relied on earlier whose names no column has now (renamed
     *                    away or dropped), kept as they were so that a column given such a name later
     *                    is told apart from the one readers cached ({@link ColumnDrifts#carry}); never
     *                    read from the catalog
     */
    public record Table(long oid, String kind, String persistence, long relfilenode, String membership, boolean rowFilter,
            List<String> columnList, List<Leaf> leaves, List<Column> columns, List<Column> former) {
        public Table {
            columnList = columnList == null ? List.of() : List.copyOf(columnList);
            leaves = leaves == null ? List.of() : List.copyOf(leaves);
            membership = membership == null ? "" : membership;
            columns = columns == null ? List.of() : List.copyOf(columns);
            former = former == null ? List.of() : List.copyOf(former);
        }

        /** A table as the catalog shows it (no former columns). */
        public Table(long oid, String kind, String persistence, long relfilenode, String membership, boolean rowFilter,
                List<String> columnList, List<Leaf> leaves, List<Column> columns) {
            this(oid, kind, persistence, relfilenode, membership, rowFilter, columnList, leaves, columns, List.of());
        }

        /** This table with {@code former} as its former columns. */
        public Table withFormer(List<Column> former) {
            return new Table(oid, kind, persistence, relfilenode, membership, rowFilter, columnList, leaves, columns, former);
        }

        /** A table whose columns are not recorded. */
        public Table(long oid, String kind, String persistence, long relfilenode, String membership, boolean rowFilter,
                List<String> columnList, List<Leaf> leaves) {
            this(oid, kind, persistence, relfilenode, membership, rowFilter, columnList, leaves, List.of());
        }

        public boolean exists() {
            return oid != 0;
        }

        /**
         * True when the table belongs to the publication only implicitly (FOR ALL TABLES or FOR
         * TABLES IN SCHEMA): PostgreSQL then lets it be set UNLOGGED, and quietly stops publishing
         * it until it is LOGGED again.
         */
        public boolean implicitMember() {
            return !membership.isEmpty() && Arrays.stream(membership.split(",")).noneMatch(m -> m.startsWith("rel:"));
        }
    }

    /** The replication slot: its output plugin, database and {@code wal_status} ({@code lost} when PostgreSQL removed WAL it needs). */
    public record Slot(String plugin, String database, String walStatus) {
    }

    /**
     * A column: its number, name and type as PostgreSQL names it (format_type, with its modifier),
     * the labels of every enum it holds (directly, or through arrays, domains, ranges and
     * composite types, at any depth), as {@code <enum oid>:<label>} in each enum's order, and the
     * version of its pg_attribute row (its xmin: every ALTER of the column writes a new one, among
     * them an {@code ALTER COLUMN ... TYPE} to the same type whose {@code USING} rewrites every
     * value); null in a state stored before versions were recorded. Its {@code shape}: the
     * attributes of every composite type it holds at any depth (dropped ones too: dropping or adding
     * one changes every value's text), and every enum value as {@code <enum oid>:<value oid>:<label>}
     * (a label renamed and the old label added back reads as labels only added, but the value's oid
     * keeps its new name); null in a state stored before shapes were.
     */
    public record Column(int num, String name, String type, List<String> labels, String version, String shape) {
        public Column {
            labels = labels == null ? List.of() : List.copyOf(labels);
        }

        /** A column whose version and shape are not recorded. */
        public Column(int num, String name, String type, List<String> labels) {
            this(num, name, type, labels, null, null);
        }

        /** A column whose shape is not recorded. */
        public Column(int num, String name, String type, List<String> labels, String version) {
            this(num, name, type, labels, version, null);
        }
    }

    /** A leaf partition or an inheriting table, with what decides whether its changes are logged. */
    public record Leaf(long oid, String name, String kind, String persistence, long relfilenode) {
    }

    /** The state as text, as capture stores it. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the source state: " + e.getMessage(), e);
        }
    }

    /** A state stored by {@link #toJson()}. */
    public static SourceState fromJson(String json) {
        try {
            return JSON.readValue(json, SourceState.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot read the stored source state: " + e.getOriginalMessage(), e);
        }
    }

    /** Reads the state now: one catalog query (under a millisecond once prepared), meant to run often. */
    public static SourceState read(Connection c, LetheConfig config) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(query(c))) {
            return read(ps, config);
        }
    }

    /** The query {@link #read(PreparedStatement, LetheConfig)} runs, for the server {@code c} is connected to ({@link SourceStateReader}). */
    public static String query(Connection c) throws SQLException {
        return SourceStateReader.query(c);
    }

    /** Runs a statement prepared from {@link #query(Connection)}; kept prepared, it is planned once. */
    public static SourceState read(PreparedStatement ps, LetheConfig config) throws SQLException {
        return SourceStateReader.read(ps, config);
    }

    /** A leaf that has no storage never held a row. */
    static Predicate<Leaf> emptyLeaves(Connection c) {
        return SourceStateReader.emptyLeaves(c);
    }

    /**
     * A column's shape as stored: its entries joined by {@link #SHAPE_SEPARATOR}, each with that
     * character (and the escape character) escaped, so that a label holding it reads as one entry
     * ({@link ColumnDrifts#reshaped}); names without them read as before escaping was added.
     */
    static String shape(List<String> entries) {
        return String.join(SHAPE_SEPARATOR,
                entries.stream().map(e -> e.replace(ESCAPE, ESCAPE + ESCAPE).replace(SHAPE_SEPARATOR, ESCAPE + "\u001c")).toList());
    }
}
