package io.lethe.schemas;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Where a change came from: database, schema and table.
 *
 * @param database the PostgreSQL database name
 * @param schema   the table's schema, e.g. {@code public}
 * @param table    the table name, without schema
 */
public record SourceTable(
        @JsonProperty(value = "database", required = true) String database,
        @JsonProperty(value = "schema", required = true) String schema,
        @JsonProperty(value = "table", required = true) String table) {

    public SourceTable {
        Fields.require("source.database", database);
        Fields.require("source.schema", schema);
        Fields.require("source.table", table);
    }

    /** {@code schema.table}, the name used in configuration and in {@code lethe.changes} keys. */
    public String qualifiedName() {
        return schema + "." + table;
    }
}
