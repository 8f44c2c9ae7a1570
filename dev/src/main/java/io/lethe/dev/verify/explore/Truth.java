package io.lethe.dev.verify.explore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lethe.dev.verify.explore.Program.Column;
import io.lethe.dev.verify.explore.Program.Namespace;
import io.lethe.dev.verify.explore.Program.Table;
import io.lethe.dev.verify.explore.Program.Template;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What the application caches under each key, computed in SQL from PostgreSQL's own text output
 * ({@code col::text}), never with Lethe's renderer: the keys of the current rows and the payload a
 * reader's loader returns for each. Readers load through these queries and the judge compares
 * Redis with them, so both see the same definition of a key.
 *
 * <p>Payloads: a row key ({@code r}) holds {@code val|n} (in {@code mode: upsert}, the JSON object
 * of {@code val} and {@code n}, compared as JSON); a key over part of a composite key ({@code p})
 * or over group columns ({@code d}) holds {@code rid=val,...} of its rows in rid order; a pattern's
 * list key ({@code <pattern without *>count}) holds {@code count:sum(n)} of each table the pattern
 * covers.
 *
 * <p>Every session runs with {@value #SESSION}: {@code timestamptz} prints in the session's time
 * zone, and Lethe, which cannot know the application's, renders in UTC.
 */
final class Truth {
    /**
     * A column's text as a key holds it, in SQL: key format 2 writes each of {@code % : { } * ? [ ] \\}
     * as {@code %} and its upper-case hex code ({@code %} first, so no code is escaped twice). Written
     * here again, not with Lethe's {@code KeyFormat.escape}: the judge's keys stay its own.
     */
    static String keyText(String textSql) {
        String sql = textSql;
        String[][] codes = {{"%", "%25"}, {":", "%3A"}, {"{", "%7B"}, {"}", "%7D"}, {"*", "%2A"}, {"?", "%3F"}, {"[", "%5B"},
                {"]", "%5D"}, {"\\", "%5C"}};
        for (String[] code : codes) {
            sql = "replace(" + sql + ", '" + code[0] + "', '" + code[1] + "')";
        }
        return sql;
    }

    /** The session setting every connection of the judge and the readers starts with. */
    static final String SESSION = "SET TimeZone = 'UTC'";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a key holds: one row, a group of rows, or a pattern's list. */
    enum Kind {
        ROW, GROUP, LIST
    }

    /**
     * The template (or pattern) a key belongs to.
     *
     * @param pattern the glob of a list key, else null
     */
    record Owner(Namespace ns, Template template, String pattern, Kind kind, String literal) {
    }

    private final Program program;
    private final String prefix;
    private final List<Owner> owners = new ArrayList<>();

    Truth(Program program, String prefix) {
        this.program = program;
        this.prefix = prefix;
        for (Namespace ns : program.namespaces()) {
            for (Template t : ns.keys()) {
                owners.add(new Owner(ns, t, null, t.tag().equals("r") ? Kind.ROW : Kind.GROUP, t.literal(prefix, ns.name())));
            }
            for (String pattern : ns.patterns()) {
                if (owners.stream().noneMatch(o -> pattern.equals(o.pattern()))) {
                    owners.add(new Owner(ns, null, pattern, Kind.LIST, listKey(pattern)));
                }
            }
        }
    }

    List<Owner> owners() {
        return owners;
    }

    String prefix() {
        return prefix;
    }

    /** The template or pattern {@code key} belongs to; null for keys of none (not judged). */
    Owner owner(String key) {
        for (Owner o : owners) {
            if (o.kind() == Kind.LIST ? key.equals(o.literal()) : key.startsWith(o.literal())) {
                return o;
            }
        }
        return null;
    }

    /** The owners of one namespace (its templates, then its patterns' list keys). */
    List<Owner> ownersOf(String namespace) {
        List<Owner> out = new ArrayList<>();
        Namespace ns = program.namespace(namespace).orElseThrow();
        for (Owner o : owners) {
            if (o.ns().name().equals(namespace) || o.kind() == Kind.LIST && ns.patterns().contains(o.pattern())) {
                out.add(o);
            }
        }
        return out;
    }

    String listKey(String pattern) {
        return prefix + pattern.substring(0, pattern.length() - 1) + "count";
    }

    private Table table(Owner o) {
        return program.table(o.ns().table());
    }

    private String keySql(Owner o) {
        return o.template().sql(prefix, o.ns().name());
    }

    private static String rowPayload(Namespace ns) {
        return ns.upsert() ? "json_build_object('val', val, 'n', n)::text" : "coalesce(val, '∅') || '|' || coalesce(n::text, '∅')";
    }

    private static final String GROUP_PAYLOAD = "string_agg(rid::text || '=' || coalesce(val, '∅'), ',' ORDER BY rid, val)";

    private String listSql(String pattern) {
        List<String> parts = new ArrayList<>();
        program.namespaces().stream().filter(n -> n.patterns().contains(pattern)).sorted((a, b) -> a.name().compareTo(b.name()))
                .forEach(n -> parts.add("(SELECT count(*) || ':' || coalesce(sum(n), 0) FROM " + n.table() + ")"));
        return "SELECT " + String.join(" || ';' || ", parts);
    }

    /** The loader's query: the payload (and for row keys the version column) of one key, by its text. */
    String loadSql(Owner o) {
        return switch (o.kind()) {
            case ROW -> "SELECT v, ver FROM (SELECT " + keySql(o) + " AS k, " + rowPayload(o.ns()) + " AS v, ver FROM " + o.ns().table()
                    + ") q WHERE k = ?";
            case GROUP -> "SELECT " + GROUP_PAYLOAD + " FROM " + o.ns().table() + " WHERE " + keySql(o) + " = ?";
            case LIST -> listSql(o.pattern());
        };
    }

    /** Up to {@code limit} random keys of current rows. */
    String sampleSql(Owner o, int limit) {
        if (o.kind() == Kind.LIST) {
            return "SELECT '" + o.literal().replace("'", "''") + "'";
        }
        return "SELECT k FROM (SELECT DISTINCT " + keySql(o) + " AS k FROM " + o.ns().table() + " WHERE " + o.template().notNull()
                + ") q ORDER BY random() LIMIT " + limit;
    }

    /**
     * The keys of the rows numbered {@code rids} (SQL with one int[] parameter): computed from the
     * rid alone where the template's columns follow from it (key columns), so rows that are gone
     * give keys too (readers then cache "no row"); else read from the table.
     */
    String keysOfRidsSql(Owner o) {
        if (o.kind() == Kind.LIST) {
            return "SELECT '" + o.literal().replace("'", "''") + "' FROM unnest(?::int[]) r LIMIT 1";
        }
        Table t = table(o);
        boolean fromRid = o.template().columns().stream().allMatch(c -> t.column(c).role().equals("key"));
        if (fromRid) {
            StringBuilder sb = new StringBuilder("SELECT DISTINCT '" + o.literal().replace("'", "''") + "'");
            List<String> cols = o.template().columns();
            for (int i = 0; i < cols.size(); i++) {
                if (i > 0) {
                    sb.append(" || '").append(Template.SEPARATOR).append('\'');
                }
                Column c = t.column(cols.get(i));
                sb.append(" || ").append(keyText("(" + c.pgType().valueOf("r") + ")::" + c.pgType().ddl() + "::text"));
            }
            return sb.append(" FROM unnest(?::int[]) r").toString();
        }
        return "SELECT DISTINCT " + keySql(o) + " FROM " + o.ns().table() + " WHERE rid = ANY(?) AND " + o.template().notNull();
    }

    /** Keys of groups that may have no row (group values beyond those written), for negative entries. */
    String ghostGroupKeysSql(Owner o) {
        Table t = table(o);
        List<String> cols = o.template().columns();
        if (o.kind() != Kind.GROUP || !cols.stream().allMatch(c -> t.column(c).role().equals("group"))) {
            return null;
        }
        StringBuilder sb = new StringBuilder("SELECT '" + o.literal().replace("'", "''") + "'");
        for (int i = 0; i < cols.size(); i++) {
            if (i > 0) {
                sb.append(" || '").append(Template.SEPARATOR).append('\'');
            }
            Column c = t.column(cols.get(i));
            sb.append(" || ").append(keyText("(" + c.pgType().valueOf("g") + ")::" + c.pgType().ddl() + "::text"));
        }
        return sb.append(" FROM generate_series(0, " + (t.groups() + 3) + ") g").toString();
    }

    /** What the loader found for one key. */
    record Loaded(String payload, Long version, boolean found) {
    }

    Loaded load(Connection c, Owner o, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(loadSql(o))) {
            if (o.kind() != Kind.LIST) {
                ps.setString(1, key);
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || rs.getString(1) == null) {
                    return new Loaded(null, null, false);
                }
                String payload = rs.getString(1);
                Long version = null;
                if (o.kind() == Kind.ROW) {
                    long v = rs.getLong(2);
                    version = rs.wasNull() ? null : v;
                }
                return new Loaded(payload, version, true);
            }
        }
    }

    /**
     * A row key's load tagged with an LSN: the row read {@code FOR SHARE} and the WAL position read
     * while the lock is held, in one transaction. A change of the row the load does not reflect waits
     * for the lock, so its LSN (the version its invalidation carries in an {@code lsn} namespace) is
     * above the one returned; what the load reflects is at or below it.
     */
    Loaded loadAtLsn(Connection c, Owner o, String key) throws SQLException {
        if (o.kind() != Kind.ROW) {
            throw new IllegalArgumentException("only row keys are loaded at an LSN: " + key);
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            Loaded row;
            try (PreparedStatement ps = c.prepareStatement(loadSql(o) + " FOR SHARE")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    row = !rs.next() || rs.getString(1) == null ? new Loaded(null, null, false) : new Loaded(rs.getString(1), null, true);
                }
            }
            long lsn;
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")) {
                rs.next();
                lsn = rs.getLong(1);
            }
            c.commit();
            return row.found() ? new Loaded(row.payload(), lsn, true) : row;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /**
     * The database's answer for every key of one owner now: key to payload. Keys two rows both
     * render (an application's collision, not Lethe's) go to {@code ambiguous}.
     */
    Map<String, String> expected(Connection c, Owner o, Set<String> ambiguous) throws SQLException {
        String sql = switch (o.kind()) {
            case ROW -> "SELECT " + keySql(o) + ", " + rowPayload(o.ns()) + " FROM " + o.ns().table() + " WHERE " + o.template().notNull();
            case GROUP -> "SELECT " + keySql(o) + ", " + GROUP_PAYLOAD + " FROM " + o.ns().table() + " WHERE " + o.template().notNull()
                    + " GROUP BY 1";
            case LIST -> "SELECT '" + o.literal().replace("'", "''") + "', (" + listSql(o.pattern()) + ")";
        };
        Map<String, String> out = new HashMap<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                if (out.put(rs.getString(1), rs.getString(2)) != null) {
                    ambiguous.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** Equal payloads: as JSON trees in {@code mode: upsert} namespaces (Lethe writes compact JSON), else as text. */
    static boolean samePayload(Owner o, String a, String b) {
        if (Objects.equals(a, b)) {
            return true;
        }
        if (a == null || b == null || !o.ns().upsert() || o.kind() != Kind.ROW) {
            return false;
        }
        try {
            JsonNode x = JSON.readTree(a);
            JsonNode y = JSON.readTree(b);
            return x.equals(y);
        } catch (IOException e) {
            return false;
        }
    }

    /** Columns of the program's tables that keys use, for reports: {@code table.column type}. */
    Set<String> keyColumnTypes() {
        Set<String> out = new LinkedHashSet<>();
        for (Owner o : owners) {
            if (o.template() != null) {
                Table t = table(o);
                o.template().columns().forEach(c -> out.add(t.qualified() + "." + c + " " + t.column(c).type()));
            }
        }
        return out;
    }
}
