package io.lethe.capture.mapping;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.Versions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Namespace-wide {@code reset} changes: what capture publishes where it cannot say exactly what changed. */
public final class Resets {
    private Resets() {
    }

    /** One reset per namespace of each of {@code tables}, at {@code lsn}. */
    public static List<ChangeEvent> forTables(LetheConfig config, Collection<SourceTable> tables, long lsn, long nowMicros) {
        List<ChangeEvent> out = new ArrayList<>();
        for (SourceTable table : tables) {
            for (NamespaceConfig ns : config.namespacesForTable(table.qualifiedName())) {
                out.add(reset(config, ns, table, lsn, nowMicros));
            }
        }
        return out;
    }

    /** One reset per configured namespace, at {@code lsn}. */
    public static List<ChangeEvent> all(LetheConfig config, long lsn, long nowMicros) {
        List<ChangeEvent> out = new ArrayList<>();
        for (NamespaceConfig ns : config.namespaces().values()) {
            out.add(reset(config, ns, new SourceTable(config.source().database(), ns.schemaName(), ns.tableName()), lsn, nowMicros));
        }
        return out;
    }

    /**
     * One reset per configured namespace, at {@code lsn}, deleting whatever is there (version
     * 2^64-1): for a change of source history, after which no version cached before (a position of
     * the old history, perhaps above every new one) can be compared with the new history's.
     */
    public static List<ChangeEvent> allWholesale(LetheConfig config, long lsn, long nowMicros) {
        List<ChangeEvent> out = new ArrayList<>();
        for (NamespaceConfig ns : config.namespaces().values()) {
            SourceTable table = new SourceTable(config.source().database(), ns.schemaName(), ns.tableName());
            out.add(new ChangeEvent(ChangeEvent.SCHEMA_ID, "history:" + ChangeEvent.resetId(lsn, ns.name()), table, Op.RESET, null, null,
                    null,
                    Versions.MAX, lsn, null, nowMicros, nowMicros, ns.name(), config.source().region(), lsn));
        }
        return out;
    }

    private static ChangeEvent reset(LetheConfig config, NamespaceConfig ns, SourceTable table, long lsn, long nowMicros) {
        return new ChangeEvent(ChangeEvent.SCHEMA_ID, ChangeEvent.resetId(lsn, ns.name()), table, Op.RESET, null, null, null,
                Long.toString(lsn), lsn, null, nowMicros, nowMicros, ns.name(), config.source().region(), lsn);
    }
}
