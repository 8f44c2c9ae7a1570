package io.lethe.region.inspect;

import java.sql.SQLException;

/**
 * A {@link SourceRows} lookup's comparison in the column's own type failed (SQLSTATE class 22, 23 or 42). {@code noValue}:
 * a data exception or a domain's check, so the key's text is no value of the type and no row's text can be it; otherwise
 * the typed comparison cannot run (no operator, no USAGE on the type's schema, the type gone) and text alone must do.
 */
final class TypesChanged extends Exception {
    final boolean noValue;

    TypesChanged(SQLException cause) {
        super(cause);
        this.noValue = cause.getSQLState().startsWith("22") || cause.getSQLState().startsWith("23");
    }
}
