package io.lethe.cache;

/**
 * A read-your-writes token with the source history it was taken in ({@link ReadTokens#take}).
 * LSNs are positions in one history: after a restore, a failover to an asynchronous standby or a
 * blue/green switch the primary's positions may start again below the old ones, so a region's
 * watermark covers a token only when both are of the same history.
 *
 * @param lsn     the primary's WAL insert position after the write (as a number)
 * @param history the primary's system identifier and timeline, {@code <system identifier>/<timeline>}
 */
public record ReadToken(long lsn, String history) {
    public ReadToken {
        if (history == null || history.isEmpty()) {
            throw new IllegalArgumentException("a read token needs the source history it was taken in");
        }
    }
}
