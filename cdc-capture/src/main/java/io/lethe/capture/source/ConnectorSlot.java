package io.lethe.capture.source;

import io.lethe.capture.source.Drift.Kind;
import io.lethe.config.LetheConfig;
import java.util.List;
import java.util.Optional;

/**
 * The connector's replication slot ({@code source.slot}, the connector's {@code slot.name}) as
 * {@code source.mode: debezium-topics} watches it, once it was seen: PostgreSQL removed WAL it
 * needs ({@code wal_status = lost}), or it is gone, hides changes (no watermark, resets every 10 s);
 * a slot there again after either (made again: it starts past the gap) is a drift of every table.
 * A slot has no identity: one dropped and made again between two checks is not seen.
 */
final class ConnectorSlot {
    private final LetheConfig config;
    /** A check saw it lost or gone; the next that sees it streamable again reports the gap. */
    private boolean broken;

    ConnectorSlot(LetheConfig config) {
        this.config = config;
    }

    /** What hides changes now, given the slot relied on ({@code seen}: null when it was never seen) and the slot now. */
    Optional<Drift> hiding(SourceState.Slot seen, SourceState.Slot now) {
        String slot = config.source().slot();
        if (now != null && "lost".equals(now.walStatus())) {
            broken = true;
            return Optional.of(new Drift(Kind.SLOT, config.tables(), "the connector's replication slot " + slot
                    + " lost WAL it needs (wal_status = lost): changes it had not decoded are gone",
                    "none: the connector cannot stream on from it; once a new slot streams, every namespace is reset once", true));
        }
        if (now == null && seen != null) {
            broken = true;
            return Optional.of(new Drift(Kind.SLOT, config.tables(), "the connector's replication slot " + slot
                    + " does not exist: no change is decoded",
                    "none: once the connector streams from a new slot, every namespace is "
                            + "reset once",
                    true));
        }
        return Optional.empty();
    }

    /** The gap a slot streamable again after it was lost or gone leaves: every table's changes in between. */
    List<Drift> since(SourceState.Slot now) {
        if (!broken || now == null || "lost".equals(now.walStatus())) {
            return List.of();
        }
        broken = false;
        return List.of(new Drift(Kind.SLOT, config.tables(), "the connector's replication slot " + config.source().slot()
                + " is there again after it was lost or gone: the changes in between were never decoded", "", false));
    }
}
