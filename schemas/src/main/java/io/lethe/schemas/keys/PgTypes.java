package io.lethe.schemas.keys;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which PostgreSQL types a key template column may have: those whose text ({@link PgText}) Lethe
 * can rebuild exactly from what the change stream carries. Every other type is refused at
 * start-up and by {@code lethe doctor}, with the reason and the fix; docs/design.md ("Key
 * rendering") lists both.
 */
public final class PgTypes {
    /** Base types (pg_type.typname) with a defined rendering. Enum types (typtype 'e') have one too. */
    public static final Set<String> RENDERED = Set.of("int2", "int4", "int8", "oid", "numeric", "float4", "float8", "text", "varchar",
            "bpchar", "bool", "uuid", "date", "time", "timestamp", "timestamptz", "bytea", "inet", "cidr", "macaddr", "macaddr8", "jsonb",
            "json", "xml", "bit", "point", "int4range", "int8range", "citext");

    /** Base types a domain may have: the domain's values arrive exactly as the base type's text. */
    public static final Set<String> DOMAIN_BASES = Set.of("int2", "int4", "int8", "text", "varchar", "uuid", "bool", "json", "jsonb");

    /** Why a type has no rendering, where the reason is known. */
    private static final Map<String, String> WHY_NOT = Map.of(
            "money", "its text depends on the server's lc_monetary and Debezium passes it as a number",
            "timetz", "Debezium passes it converted to UTC, so the offset PostgreSQL prints is lost",
            "interval", "Debezium passes it as microseconds, counting a month as 30.4375 days, so its text cannot be rebuilt",
            "varbit", "Debezium passes the bits without their length, so leading zeros are lost",
            "name", "Debezium does not pass its values (they arrive as NULL)",
            "pg_lsn", "Debezium does not pass the column at all");

    private PgTypes() {
    }

    /**
     * Why a column of this type cannot be a key template column, or empty when it can.
     *
     * @param type     the column's type as PostgreSQL names it (format_type), for the message
     * @param baseType pg_type.typname of the column's type, or of its domain's base type
     * @param typtype  pg_type.typtype of the column's own type: b base, d domain, e enum, r range, c composite, p pseudo
     * @param array    true when the column (or its domain's base) is an array type
     */
    public static Optional<String> refusal(String type, String baseType, String typtype, boolean array) {
        if (array) {
            return Optional.of("type " + type + " is an array: Debezium flattens multi-dimensional arrays "
                    + "({{1,2},{3,4}} arrives as two NULLs), so its text cannot be rebuilt");
        }
        if ("e".equals(typtype)) {
            return Optional.empty();
        }
        if ("d".equals(typtype)) {
            return DOMAIN_BASES.contains(baseType)
                    ? Optional.empty()
                    : Optional.of("type " + type + " is a domain over " + baseType + "; a domain may be a key column only over "
                            + String.join(", ", new java.util.TreeSet<>(DOMAIN_BASES)));
        }
        if (RENDERED.contains(baseType)) {
            return Optional.empty();
        }
        String why = WHY_NOT.get(baseType);
        return Optional.of("type " + type + " has no defined key rendering" + (why == null ? "" : ": " + why));
    }

    /** What to do about a refused template column. */
    public static String fix(String table, String column, String template) {
        return "key '" + template + "' on a column of a type with a defined rendering (docs/design.md, \"Key rendering\"), e.g. "
                + "ALTER TABLE " + table + " ADD COLUMN " + column + "_key text, kept equal to " + column
                + "::text by a trigger, and use {" + column + "_key}";
    }
}
