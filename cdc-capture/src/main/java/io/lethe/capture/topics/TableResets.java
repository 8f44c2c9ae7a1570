package io.lethe.capture.topics;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.Versions;
import io.micrometer.core.instrument.Counter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The wholesale resets of tables whose changes were lost or could not be read, counted. */
final class TableResets {
    private final LetheConfig config;
    private final Counter resets;
    private final Clock clock;

    TableResets(LetheConfig config, Counter resets, Clock clock) {
        this.config = config;
        this.resets = resets;
        this.clock = clock;
    }

    /**
     * One reset per namespace of each table, deleting whatever is there (version 2^64-1): the LSN of
     * what was lost is unknown, so no version below it can be named. {@code maxLsn}: the highest LSN
     * of a row change translated (a reset needs one).
     */
    List<ChangeEvent> wholesale(Set<SourceTable> tables, long maxLsn) {
        long now = clock.millis() * 1000;
        List<ChangeEvent> out = new ArrayList<>();
        for (SourceTable table : tables) {
            for (NamespaceConfig ns : config.namespacesForTable(table.qualifiedName())) {
                resets.increment();
                out.add(new ChangeEvent(ChangeEvent.SCHEMA_ID, "debezium:" + ChangeEvent.resetId(maxLsn, ns.name()) + ":" + now, table,
                        Op.RESET,
                        null, null, null, Versions.MAX, maxLsn, null, now, now, ns.name(), config.source().region(), null));
            }
        }
        return out;
    }
}
