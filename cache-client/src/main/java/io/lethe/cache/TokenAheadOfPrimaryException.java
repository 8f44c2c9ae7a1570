package io.lethe.cache;

/**
 * A read-your-writes token beyond the primary's current position: no write returned it, so no
 * region can ever cover it, and serving it would send every read of it to the primary. Tokens come
 * from the application's callers; treat this as bad input (HTTP 400), not as a cache failure.
 */
public final class TokenAheadOfPrimaryException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final long token;
    private final long primaryPosition;

    public TokenAheadOfPrimaryException(long token, long primaryPosition) {
        super("read token " + token + " is beyond the primary's current position " + primaryPosition
                + ": no write returned it; refused");
        this.token = token;
        this.primaryPosition = primaryPosition;
    }

    public long token() {
        return token;
    }

    public long primaryPosition() {
        return primaryPosition;
    }
}
