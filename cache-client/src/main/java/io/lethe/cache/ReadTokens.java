package io.lethe.cache;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Read-your-writes tokens: a writer takes one on the primary after its transaction committed and
 * passes it to the reads that must see the write ({@link CacheNamespace#get(String, Loader, long)}).
 * A token is the primary's WAL insert position (as a number): at or past the end of every commit
 * that returned before it was taken. A region serves a token read from its cache only once its
 * applied watermark (a heartbeat committed after the token, applied with everything before it)
 * is at or past the token.
 *
 * <p>Any connection to the primary will do, in autocommit or after {@code commit()}; on a standby
 * the function fails, as it should (a standby's position says nothing of the primary's commits).
 *
 * <p>Prefer {@link #take}: its token also names the source history (system identifier and
 * timeline) the position belongs to, so that after a restore, a failover to an asynchronous
 * standby or a blue/green switch (the primary's positions then start again, often lower) a region
 * whose watermark is still of the old history does not count the token as covered. A bare
 * position ({@link #afterCommit}) cannot be told apart across histories. The same in SQL, for
 * writers that are not Java (the position, then the history):
 *
 * <pre>{@value #TOKEN_SQL}</pre>
 */
public final class ReadTokens {
    /** The query that returns a token (a bigint). */
    public static final String SQL = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint";
    /** The query that returns a token and its source history (a bigint and a text). */
    public static final String TOKEN_SQL = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint, "
            + io.lethe.schemas.SourceHistory.SQL;

    private ReadTokens() {
    }

    /**
     * The bound of read tokens ({@link LetheCache.Builder#primaryPosition}) from a pool of
     * connections to the primary: one short query ({@value #TOKEN_SQL}) when a token is beyond the
     * highest position seen.
     */
    public static PrimaryPosition primaryPosition(javax.sql.DataSource primary) {
        java.util.Objects.requireNonNull(primary, "primary");
        return () -> {
            try (Connection c = primary.getConnection()) {
                return take(c);
            }
        };
    }

    /** A token covering every transaction committed on {@code primary} before this call, with its source history. */
    public static ReadToken take(Connection primary) throws SQLException {
        try (Statement s = primary.createStatement(); ResultSet rs = s.executeQuery(TOKEN_SQL)) {
            if (!rs.next()) {
                throw new SQLException("no read token: '" + TOKEN_SQL + "' returned no row");
            }
            return new ReadToken(rs.getLong(1), rs.getString(2));
        }
    }

    /**
     * A token covering every transaction committed on {@code primary} before this call, without
     * its history: see {@link #take}.
     */
    public static long afterCommit(Connection primary) throws SQLException {
        try (Statement s = primary.createStatement(); ResultSet rs = s.executeQuery(SQL)) {
            if (!rs.next()) {
                throw new SQLException("no read token: '" + SQL + "' returned no row");
            }
            return rs.getLong(1);
        }
    }
}
