package io.lethe.dev.verify.explore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The PostgreSQL types the generator draws key, group and payload columns from: every built-in
 * type a key column can have, and a few that only a derived key's group column can have (no
 * btree operator class, so never in a primary key). Each value is a SQL expression of an integer,
 * so a row's columns follow from its number and bulk statements can generate them with
 * {@code generate_series}.
 *
 * <p>Values deliberately reach the corners of each type's text output: negative and fractional
 * numbers, time zones and fractional seconds, IPv6 addresses with colons, text with spaces,
 * quotes, backslashes and non-ASCII letters, arrays whose elements need quoting, JSON with spaces.
 */
final class TypeCatalog {
    /** Created in every run's database before the tables: the enum and the domain below. */
    static final List<String> SETUP = List.of(
            "CREATE TYPE explore_mood AS ENUM (" + labels() + ")",
            "CREATE DOMAIN explore_code AS text CHECK (VALUE <> '')",
            "CREATE DOMAIN explore_positive AS int8 CHECK (VALUE > 0)");

    private static final Map<String, PgType> TYPES = new LinkedHashMap<>();

    /**
     * The types without a defined key rendering (io.lethe.schemas.keys.PgTypes): capture refuses a
     * key template on them at start-up (KeyRenderingIT pins both the rendering of every other type
     * and this refusal), so the generator gives them to payload columns only, never to key or group
     * columns.
     */
    static final Set<String> NOT_RENDERED = Set.of("money", "timetz", "interval", "varbit", "name", "pg_lsn", "int4_array",
            "text_array");

    static {
        add("int2", "integers", "int2", "((%1$s %% 30000) - 15000)::int2", true, true);
        add("int4", "integers", "int4", "(%1$s * 7 - 1000)::int4", true, true);
        add("int8", "integers", "int8", "(%1$s::int8 * 1000000007 - 5)", true, true);
        add("oid", "integers", "oid", "(%1$s + 1)::oid", true, true);
        add("numeric", "numbers", "numeric", "(%1$s::numeric / 8 - 3)", true, true);
        add("numeric_scaled", "numbers", "numeric(14,4)", "round(%1$s::numeric / 3, 2)::numeric(14,4)", true, true);
        add("money", "numbers", "money", "(%1$s::numeric * 1.25)::money", true, true);
        add("float4", "floats", "float4", "(%1$s / 3.0 - 1)::float4", true, true);
        add("float8", "floats", "float8", "(%1$s::float8 / 7 + 1e-9)", true, true);
        add("text", "strings", "text", "('t ' || %1$s || ' \"q'' \\ é')", true, true);
        add("varchar", "strings", "varchar(40)", "('v' || %1$s)::varchar(40)", true, true);
        add("char", "strings", "char(12)", "('c' || %1$s)::char(12)", true, true);
        add("name", "strings", "name", "('n' || %1$s)::name", true, true);
        add("bool", "misc", "bool", "(%1$s %% 2 = 0)", true, false);
        add("uuid", "misc", "uuid", "md5(%1$s::text)::uuid", true, true);
        add("date", "times", "date", "(date '1999-12-20' + %1$s::int)", true, true);
        add("time", "times", "time", "(time '00:00' + make_interval(secs => (%1$s %% 50000) * 1.5))", true, true);
        add("timetz", "times", "timetz", "(timetz '00:00:00+05:30' + make_interval(secs => (%1$s %% 50000) * 1.25))", true, true);
        add("timestamp", "times", "timestamp", "(timestamp '1999-12-31 23:00' + make_interval(secs => %1$s * 1.125))", true, true);
        add("timestamptz", "times", "timestamptz",
                "(timestamptz '1999-12-31 23:00:00+00' + make_interval(secs => %1$s * 0.5))", true, true);
        add("interval", "times", "interval", "make_interval(days => %1$s %% 40, secs => %1$s * 1.5)", true, true);
        add("bytea", "misc", "bytea", "decode(md5(%1$s::text), 'hex')", true, true);
        add("inet4", "network", "inet", "('10.0.0.1'::inet + %1$s)", true, true);
        add("inet6", "network", "inet", "('2001:db8::1'::inet + %1$s)", true, true);
        add("cidr", "network", "cidr", "set_masklen(('10.0.0.0'::inet + %1$s::int8 * 256), 24)::cidr", true, true);
        add("macaddr", "network", "macaddr",
                "('08:00:2b:' || substr(md5(%1$s::text), 1, 2) || ':' || lpad(to_hex((%1$s / 256) %% 256), 2, '0')"
                        + " || ':' || lpad(to_hex(%1$s %% 256), 2, '0'))::macaddr",
                true, true);
        add("macaddr8", "network", "macaddr8", "('08:00:2b:01:02:' || substr(md5(%1$s::text), 1, 2) || ':'"
                + " || lpad(to_hex((%1$s / 256) %% 256), 2, '0') || ':' || lpad(to_hex(%1$s %% 256), 2, '0'))::macaddr8", true, true);
        add("jsonb", "jsons", "jsonb", "jsonb_build_object('id', %1$s, 'tag', 'a b', 'ok', %1$s %% 2 = 0)", true, true);
        add("json", "jsons", "json", "json_build_object('id', %1$s, 'tag', 'a b')", false, true);
        add("enum", "misc", "explore_mood", "(enum_range(NULL::explore_mood))[1 + (%1$s %% 40)]", true, false);
        add("domain", "misc", "explore_code", "('d-' || %1$s)::explore_code", true, true);
        add("domain_int", "misc", "explore_positive", "(%1$s + 1)::explore_positive", true, true);
        add("int4_array", "arrays", "int4[]", "ARRAY[%1$s, -%1$s, NULL]::int4[]", true, true);
        add("text_array", "arrays", "text[]", "ARRAY['a ' || %1$s, 'b,c', 'NULL', '']::text[]", true, true);
        add("int4range", "misc", "int4range", "int4range(%1$s, %1$s + 3)", true, true);
        add("bit", "misc", "bit(8)", "(%1$s %% 256)::bit(8)", true, false);
        add("varbit", "misc", "varbit", "(%1$s::bit(24))::varbit", true, true);
        add("pg_lsn", "misc", "pg_lsn", "('0/' || to_hex(%1$s::int8 * 4096 + 1))::pg_lsn", true, true);
        add("point", "misc", "point", "point(%1$s, -%1$s / 2.0)", false, true);
        add("xml", "misc", "xml", "xmlelement(name x, %1$s)", false, true);
    }

    private TypeCatalog() {
    }

    private static void add(String id, String family, String ddl, String value, boolean btree, boolean injective) {
        TYPES.put(id, new PgType(id, family, ddl, value, btree, injective));
    }

    private static String labels() {
        return String.join(", ", moods().stream().map(l -> "'" + l + "'").toList());
    }

    /** The labels of the enum {@code explore_mood}, in order, as created. */
    static List<String> moods() {
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            labels.add("m" + i + (i % 3 == 0 ? " x" : ""));
        }
        return labels;
    }

    /** Every type, in catalogue order. */
    static List<PgType> all() {
        return List.copyOf(TYPES.values());
    }

    static PgType get(String id) {
        PgType t = TYPES.get(id);
        if (t == null) {
            throw new IllegalArgumentException("no type '" + id + "' in the catalogue: " + String.join(", ", TYPES.keySet()));
        }
        return t;
    }

    /** Every id and family name, for checking switches. */
    static Set<String> names() {
        Set<String> names = new java.util.LinkedHashSet<>(TYPES.keySet());
        TYPES.values().forEach(t -> names.add(t.family()));
        return names;
    }

    /**
     * The types a switch selects: {@code all}, or a comma-separated list of ids and families,
     * each optionally prefixed with {@code -} to leave it out ({@code all,-time,-money}).
     */
    static List<PgType> select(String spec) {
        Set<String> chosen = new java.util.LinkedHashSet<>();
        for (String part : spec.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            boolean remove = p.startsWith("-");
            String name = remove ? p.substring(1) : p;
            List<String> ids = name.equals("all")
                    ? List.copyOf(TYPES.keySet())
                    : TYPES.values().stream().filter(t -> t.id().equals(name) || t.family().equals(name)).map(PgType::id).toList();
            if (ids.isEmpty()) {
                throw new IllegalArgumentException("--types: no type or family '" + name + "'; known: all, " + String.join(", ", names()));
            }
            if (remove) {
                ids.forEach(chosen::remove);
            } else {
                chosen.addAll(ids);
            }
        }
        List<PgType> out = chosen.stream().map(TYPES::get).toList();
        if (out.stream().noneMatch(t -> t.btree() && t.injective() && t.rendered())) {
            throw new IllegalArgumentException("--types '" + spec + "' has no type that can be a table's first key column on its own");
        }
        return out;
    }
}
