package io.lethe.capture.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lethe.config.LetheConfig;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
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

    /** The query {@link #read(PreparedStatement, LetheConfig)} runs, for the server {@code c} is connected to. */
    public static String query(Connection c) throws SQLException {
        boolean schemas = c.getMetaData().getDatabaseMajorVersion() >= 15;
        boolean multiranges = c.getMetaData().getDatabaseMajorVersion() >= 14;
        // to_jsonb(pr) reads prqual and prattrs where they exist (15 and later) and null before
        return """
                WITH cfg AS (SELECT * FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS x(nsp, rel, ord)),
                pub AS (SELECT p.oid, p.xmin::text AS version, p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate,
                               p.pubviaroot FROM pg_publication p WHERE p.pubname = ?)
                SELECT c.oid, c.relkind::text, c.relpersistence::text, c.relfilenode,
                  (SELECT string_agg(m, ',' ORDER BY m) FROM (
                     SELECT 'all' AS m FROM pub WHERE pub.puballtables
                     UNION ALL SELECT 'rel:' || pr.oid FROM pg_publication_rel pr, pub WHERE pr.prpubid = pub.oid AND pr.prrelid = c.oid
                     %s) m),
                  (SELECT bool_or(to_jsonb(pr) ->> 'prqual' IS NOT NULL) FROM pg_publication_rel pr, pub
                     WHERE pr.prpubid = pub.oid AND pr.prrelid = c.oid),
                  (SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_publication_rel pr JOIN pub ON pr.prpubid = pub.oid
                     CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(to_jsonb(pr) -> 'prattrs') = 'array'
                         THEN to_jsonb(pr) -> 'prattrs' ELSE '[]' END) k(attnum)
                     JOIN pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.attnum::int2
                     WHERE pr.prrelid = c.oid),
                  (WITH RECURSIVE inheriting(relid) AS (
                       SELECT i.inhrelid FROM pg_inherits i WHERE i.inhparent = c.oid AND c.relkind = 'r'
                       UNION SELECT i.inhrelid FROM pg_inherits i JOIN inheriting h ON i.inhparent = h.relid)
                   SELECT json_agg((SELECT json_build_array(x.oid, x.relkind::text, x.relpersistence::text, x.relfilenode,
                          (SELECT nspname FROM pg_namespace WHERE oid = x.relnamespace) || '.' || x.relname)
                          FROM pg_class x WHERE x.oid = t.relid) ORDER BY t.relid)
                     FROM (SELECT relid FROM pg_partition_tree(c.oid) WHERE c.relkind = 'p' AND isleaf
                           UNION ALL SELECT relid FROM inheriting) t),
                  (SELECT json_agg(json_build_array(a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.xmin::text, z.shape,
                          z.labels) ORDER BY a.attnum)
                     FROM pg_attribute a CROSS JOIN LATERAL (
                       WITH RECURSIVE ty(oid) AS (
                         SELECT a.atttypid
                         UNION SELECT x.t FROM ty JOIN pg_type t ON t.oid = ty.oid
                           CROSS JOIN LATERAL (SELECT t.typelem WHERE t.typelem <> 0
                             UNION ALL SELECT t.typbasetype WHERE t.typbasetype <> 0
                             UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid
                             %s
                             UNION ALL SELECT f.atttypid FROM pg_attribute f WHERE t.typrelid <> 0
                               AND f.attrelid = t.typrelid AND f.attnum > 0 AND NOT f.attisdropped) x(t))
                       SELECT coalesce((SELECT json_agg(e.enumtypid || ':' || e.enumlabel ORDER BY e.enumtypid, e.enumsortorder)
                                        FROM ty JOIN pg_enum e ON e.enumtypid = ty.oid), '[]') AS labels,
                              coalesce((SELECT json_agg(s.x ORDER BY s.x) FROM (
                                          SELECT 'c' || f.attrelid || ':' || f.attnum || ':' || f.atttypid || ':' || f.atttypmod || ':'
                                                 || f.attisdropped AS x
                                          FROM ty JOIN pg_type t ON t.oid = ty.oid JOIN pg_attribute f ON f.attrelid = t.typrelid
                                          WHERE t.typrelid <> 0 AND f.attnum > 0
                                          UNION ALL SELECT 'e' || e.enumtypid || ':' || e.oid || ':' || e.enumlabel
                                          FROM ty JOIN pg_enum e ON e.enumtypid = ty.oid) s), '[]') AS shape) z
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                  pub.oid, pub.version, pub.puballtables, pub.pubinsert, pub.pubupdate, pub.pubdelete, pub.pubtruncate, pub.pubviaroot,
                  slot.plugin, slot.database, slot.wal_status
                FROM cfg LEFT JOIN pg_namespace n ON n.nspname = cfg.nsp LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = cfg.rel
                LEFT JOIN pub ON true
                LEFT JOIN (SELECT plugin::text, database::text, coalesce(wal_status, '') AS wal_status FROM pg_replication_slots
                           WHERE slot_name = ?) slot ON true
                ORDER BY cfg.ord
                """
                .formatted(schemas
                        ? "UNION ALL SELECT 'schema:' || pn.oid FROM pg_publication_namespace pn, pub "
                                + "WHERE pn.pnpubid = pub.oid AND pn.pnnspid = c.relnamespace"
                        : "",
                        // a multirange's ranges (14 and later): its enum labels are the column's too
                        multiranges ? "UNION ALL SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid" : "");
    }

    /** Runs a statement prepared from {@link #query(Connection)}; kept prepared, it is planned once. */
    public static SourceState read(PreparedStatement ps, LetheConfig config) throws SQLException {
        List<String> names = List.copyOf(config.tables());
        Connection c = ps.getConnection();
        Array schemas = c.createArrayOf("text", names.stream().map(t -> t.substring(0, t.indexOf('.'))).toArray());
        Array relations = c.createArrayOf("text", names.stream().map(t -> t.substring(t.indexOf('.') + 1)).toArray());
        ps.setArray(1, schemas);
        ps.setArray(2, relations);
        ps.setString(3, config.source().publication());
        ps.setString(4, config.source().slot());
        Map<String, Table> tables = new LinkedHashMap<>();
        Publication publication = null;
        Slot slot = null;
        try (ResultSet rs = ps.executeQuery()) {
            int i = 0;
            while (rs.next()) {
                long oid = rs.getLong(1);
                tables.put(names.get(i++), oid == 0
                        ? new Table(0, null, null, 0, "", false, List.of(), List.of())
                        : new Table(oid, rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5), rs.getBoolean(6),
                                strings(array(rs.getString(7))), leaves(rs.getString(8)), columns(rs.getString(9))));
                long pub = rs.getLong(10);
                if (pub != 0) {
                    publication = new Publication(pub, rs.getString(11), rs.getBoolean(12), rs.getBoolean(13), rs.getBoolean(14),
                            rs.getBoolean(15), rs.getBoolean(16), rs.getBoolean(17));
                }
                if (rs.getString(18) != null) {
                    slot = new Slot(rs.getString(18), rs.getString(19), rs.getString(20));
                }
            }
        }
        return new SourceState(publication, tables, slot);
    }

    /** A JSON array the query aggregated (names travel as JSON: an identifier or a label may hold any character but NUL). */
    private static JsonNode array(String json) {
        if (json == null) {
            return JSON.createArrayNode();
        }
        try {
            return JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot read the catalog's answer: " + e.getOriginalMessage(), e);
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<Column> columns(String json) {
        List<Column> columns = new ArrayList<>();
        for (JsonNode f : array(json)) {
            columns.add(new Column(Integer.parseInt(f.get(0).asText()), f.get(1).asText(), f.get(2).asText(), strings(f.get(5)),
                    f.get(3).asText(),
                    shape(strings(f.get(4)))));
        }
        return columns;
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

    private static List<Leaf> leaves(String json) {
        List<Leaf> leaves = new ArrayList<>();
        for (JsonNode f : array(json)) {
            leaves.add(new Leaf(Long.parseLong(f.get(0).asText()), f.get(4).asText(), f.get(1).asText(), f.get(2).asText(),
                    Long.parseLong(f.get(3).asText())));
        }
        return leaves;
    }

    /** A leaf that has no storage never held a row. */
    static Predicate<Leaf> emptyLeaves(Connection c) {
        return leaf -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_relation_size(?::oid) = 0")) {
                ps.setLong(1, leaf.oid());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            } catch (SQLException e) {
                return false;
            }
        };
    }
}
