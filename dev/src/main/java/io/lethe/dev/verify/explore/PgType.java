package io.lethe.dev.verify.explore;

/**
 * One PostgreSQL type the generator can give a column.
 *
 * @param id        short name used in switches and reports ({@code --types int4,uuid})
 * @param family    the group a switch can name at once ({@code --types all,-times} leaves out every date and time type)
 * @param ddl       the type as written in {@code CREATE TABLE}
 * @param value     SQL expression of a value, {@code %1$s} standing for an integer expression
 *                  (the row's number, or a random one): the same number always gives the same value
 * @param btree     true when the type has a btree operator class, so it can be part of a primary key
 * @param injective true when different numbers (below a million) give different values, so the
 *                  type can be a table's first key column on its own
 */
record PgType(String id, String family, String ddl, String value, boolean btree, boolean injective) {

    /** True when a key template may use a column of this type (see {@link TypeCatalog#NOT_RENDERED}). */
    boolean rendered() {
        return !TypeCatalog.NOT_RENDERED.contains(id);
    }

    /** The value for the integer expression {@code n}. */
    String valueOf(String n) {
        return value.formatted("(" + n + ")");
    }
}
