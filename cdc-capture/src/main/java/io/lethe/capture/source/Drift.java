package io.lethe.capture.source;

import java.util.List;

/**
 * One way the source stopped (or may have stopped for a while) publishing changes capture relies
 * on. The changes it hid are unknown, so every namespace of {@link #tables} is reset.
 *
 * @param kind    what drifted; the metric's tag
 * @param tables  the configured tables whose changes it may have hidden
 * @param what    what was found, in plain words
 * @param fix     the exact SQL (or step) that ends it; empty when nothing is left to fix
 * @param ongoing true while it lasts (changes are being hidden now); false for a gap that ended
 */
public record Drift(Kind kind, List<String> tables, String what, String fix, boolean ongoing) {
    public Drift {
        tables = List.copyOf(tables);
        fix = fix == null ? "" : fix;
    }

    /** What drifted; each is a tag value of {@code lethe.capture.source.drift}. */
    public enum Kind {
        /** The publication is missing, or was dropped and made again (the slot cannot decode past that). */
        PUBLICATION("publication"),
        /** Its {@code publish} options, {@code publish_via_partition_root}, a row filter or column list. */
        PUBLICATION_OPTIONS("publication-options"),
        /** A table is not in the publication, or was dropped from it (and perhaps added back). */
        MEMBERSHIP("membership"),
        /** The name now means another relation: re-created, swapped in by a schema-change tool, renamed, dropped, or not a table. */
        IDENTITY("identity"),
        /** A table or partition is (or was) UNLOGGED, or a partition is a foreign table: no change of it is logged. */
        PERSISTENCE("persistence"),
        /** A table that could have been UNLOGGED and LOGGED again in between (implicit membership, partitions) was rewritten. */
        REWRITTEN("rewritten"),
        /** Partitions were attached or detached: their rows appeared or vanished without a change. */
        PARTITIONS("partitions"),
        /**
         * A table inherits from a configured table (INHERITS, not a partition) with no namespace of
         * its own carrying the parent's keys and version: a query of the parent reads its rows, but
         * PostgreSQL publishes its changes under its own name, which no such namespace receives.
         */
        INHERITANCE("inheritance"),
        /**
         * DDL changed what rows hold without a row change: a column's type (ALTER COLUMN ... TYPE
         * converts every value), or an enum label renamed (ALTER TYPE ... RENAME VALUE).
         */
        RETYPED("retyped"),
        /**
         * The source's history changed (another system identifier or timeline: a restore, a failover
         * to an asynchronous standby, a blue/green switch): LSNs before and after cannot be compared.
         */
        HISTORY("history"),
        /**
         * A table configured since capture last recorded the source (a namespace added to lethe.yml):
         * its changes before it entered the publication and the connector's table list were never
         * decoded, and readers may have cached its rows meanwhile.
         */
        ADDED("added"),
        /** Capture has streamed before but has no record of the source it relied on. */
        UNRECORDED("unrecorded"),
        /** The slot is missing, lost (wal_status = lost), or not a pgoutput slot of this database while capture streams. */
        SLOT("slot");

        private final String tag;

        Kind(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    @Override
    public String toString() {
        return kind.tag() + ": " + what + (fix.isEmpty() ? "" : " (fix: " + fix + ")");
    }
}
