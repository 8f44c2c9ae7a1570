package io.lethe.capture.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lethe.config.LetheConfig;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Reads a {@link SourceState} from the catalog: the one query (its text per server version) and
 * the parsing of its rows, whose lists travel as JSON.
 */
final class SourceStateReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SourceStateReader() {
    }

    /** The query {@link #read(PreparedStatement, LetheConfig)} runs, for the server {@code c} is connected to. */
    static String query(Connection c) throws SQLException {
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
    static SourceState read(PreparedStatement ps, LetheConfig config) throws SQLException {
        List<String> names = List.copyOf(config.tables());
        Connection c = ps.getConnection();
        Array schemas = c.createArrayOf("text", names.stream().map(t -> t.substring(0, t.indexOf('.'))).toArray());
        Array relations = c.createArrayOf("text", names.stream().map(t -> t.substring(t.indexOf('.') + 1)).toArray());
        ps.setArray(1, schemas);
        ps.setArray(2, relations);
        ps.setString(3, config.source().publication());
        ps.setString(4, config.source().slot());
        Map<String, SourceState.Table> tables = new LinkedHashMap<>();
        SourceState.Publication publication = null;
        SourceState.Slot slot = null;
        try (ResultSet rs = ps.executeQuery()) {
            int i = 0;
            while (rs.next()) {
                long oid = rs.getLong(1);
                tables.put(names.get(i++), oid == 0
                        ? new SourceState.Table(0, null, null, 0, "", false, List.of(), List.of())
                        : new SourceState.Table(oid, rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5), rs.getBoolean(6),
                                strings(array(rs.getString(7))), leaves(rs.getString(8)), columns(rs.getString(9))));
                long pub = rs.getLong(10);
                if (pub != 0) {
                    publication = new SourceState.Publication(pub, rs.getString(11), rs.getBoolean(12), rs.getBoolean(13),
                            rs.getBoolean(14),
                            rs.getBoolean(15), rs.getBoolean(16), rs.getBoolean(17));
                }
                if (rs.getString(18) != null) {
                    slot = new SourceState.Slot(rs.getString(18), rs.getString(19), rs.getString(20));
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

    private static List<SourceState.Column> columns(String json) {
        List<SourceState.Column> columns = new ArrayList<>();
        for (JsonNode f : array(json)) {
            columns.add(new SourceState.Column(Integer.parseInt(f.get(0).asText()), f.get(1).asText(), f.get(2).asText(), strings(f.get(5)),
                    f.get(3).asText(),
                    SourceState.shape(strings(f.get(4)))));
        }
        return columns;
    }

    private static List<SourceState.Leaf> leaves(String json) {
        List<SourceState.Leaf> leaves = new ArrayList<>();
        for (JsonNode f : array(json)) {
            leaves.add(new SourceState.Leaf(Long.parseLong(f.get(0).asText()), f.get(4).asText(), f.get(1).asText(), f.get(2).asText(),
                    Long.parseLong(f.get(3).asText())));
        }
        return leaves;
    }

    /** A leaf that has no storage never held a row. */
    static Predicate<SourceState.Leaf> emptyLeaves(Connection c) {
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
