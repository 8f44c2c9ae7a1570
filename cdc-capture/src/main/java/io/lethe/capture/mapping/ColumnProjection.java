package io.lethe.capture.mapping;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The columns each table's change events carry: the union, over the namespaces fed by the
 * table, of primary key, key-template, payload and version columns. Whole rows are not copied.
 */
public final class ColumnProjection {
    private final Map<String, Set<String>> columnsByTable;
    private final Map<String, Set<String>> templateColumnsByTable;

    private ColumnProjection(Map<String, Set<String>> columnsByTable, Map<String, Set<String>> templateColumnsByTable) {
        this.columnsByTable = columnsByTable;
        this.templateColumnsByTable = templateColumnsByTable;
    }

    public static ColumnProjection of(LetheConfig config) {
        Map<String, Set<String>> byTable = new LinkedHashMap<>();
        Map<String, Set<String>> templates = new LinkedHashMap<>();
        for (NamespaceConfig ns : config.namespaces().values()) {
            byTable.computeIfAbsent(ns.table(), t -> new LinkedHashSet<>()).addAll(ns.requiredColumns());
            Set<String> used = templates.computeIfAbsent(ns.table(), t -> new LinkedHashSet<>());
            ns.keys().forEach(k -> used.addAll(k.columns()));
        }
        byTable.replaceAll((t, cols) -> Set.copyOf(cols));
        templates.replaceAll((t, cols) -> Set.copyOf(cols));
        return new ColumnProjection(Map.copyOf(byTable), Map.copyOf(templates));
    }

    /**
     * The columns of {@code schema.table} that key templates use: events carry them as
     * PostgreSQL's text too ({@code ChangeEvent.text}). Empty for an unconfigured table.
     */
    public Set<String> templateColumnsFor(String qualifiedTable) {
        return templateColumnsByTable.getOrDefault(qualifiedTable, Set.of());
    }

    public Map<String, Set<String>> templateColumnsByTable() {
        return templateColumnsByTable;
    }

    /** The columns to keep for {@code schema.table}; null keeps every column (unconfigured table). */
    public Set<String> columnsFor(String qualifiedTable) {
        return columnsByTable.get(qualifiedTable);
    }

    public Map<String, Set<String>> byTable() {
        return columnsByTable;
    }
}
