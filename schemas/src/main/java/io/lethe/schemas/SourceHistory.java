package io.lethe.schemas;

/**
 * Which WAL history an LSN belongs to: the source cluster's system identifier and the timeline it
 * writes on, as {@code <system identifier>/<timeline>}. LSNs are positions in one history only:
 * after a failover to an asynchronous standby (a new timeline, and the LSNs it had not received
 * are written again with other changes), a restore (point-in-time recovery ends on a new
 * timeline) or a blue/green switch (another cluster), the same number means another point, often
 * an earlier one. Capture's heartbeats carry the history of the server that committed them (the
 * heartbeat row writes it in the same statement), watermarks carry it on to the regions, and
 * read-your-writes tokens carry the history they were taken in: a watermark covers a token only
 * in the same history.
 */
public final class SourceHistory {
    /**
     * The SQL expression (text) of the history of the server it runs on, a primary: its system
     * identifier and the timeline of its current WAL insert position (the first 8 hex digits of
     * the WAL file name). Both functions are executable by every role.
     */
    public static final String SQL = "(SELECT system_identifier::text FROM pg_control_system()) || '/' || "
            + "(('x' || substr(pg_walfile_name(pg_current_wal_insert_lsn()), 1, 8))::bit(32)::int)::text";

    private SourceHistory() {
    }
}
