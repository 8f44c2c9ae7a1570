package io.lethe.region.inspect;

/**
 * What {@code lethe inspect} found at one cache key, judged against the source's row(s).
 * {@link #stale()} findings are confirmed (once the region's applied watermark passed the source's
 * position read after the rows) before they count and before {@code --heal} invalidates them.
 */
public enum Finding {
    /** The entry agrees with the row as far as the inspector can tell. */
    OK(false),
    /** A row-scoped key holds a value, and no row has its key columns. */
    ROW_GONE(true),
    /** A cached "not found" ({@code nf = 1}) while a row with the key's columns exists. */
    NEGATIVE_BUT_ROW(true),
    /** {@code column:} namespace: the entry's version is below the row's. */
    OLDER_VERSION(true),
    /**
     * {@code column:} namespace: the entry's version is above the row's. The row's version only
     * grows, so no fill of this row gave it: it was filled under another version source (an LSN,
     * before {@code version: lsn} became {@code column:}), or before the row was re-created with a
     * lower version. No invalidation of the row's later changes reaches it.
     */
    AHEAD_OF_ROW(true),
    /** {@code mode: upsert}: the payload is not the row's payload columns as Lethe renders an upsert. */
    PAYLOAD_DIFFERS(true),
    /** The key's fence records an invalidation above the entry's version, and the entry is still there. */
    INVALIDATED_AFTER_WRITE(true),
    /** A derived key (not only primary-key columns) whose column values no current row has: suspect, the application may cache empty results. */
    DERIVED_ORPHAN(true),
    /**
     * The row exists but the value cannot be judged: an application-defined payload under {@code lsn}
     * versions, a derived key's value, a legacy (plain string) entry, a version-unknown fill, a key
     * that parses more than one way, a payload column of a type the inspector does not render.
     * cache-client's shadow reads compare such values with the application's own loader.
     */
    UNJUDGED_VALUE(false),
    /** A key under a template's glob that is not a Lethe entry (another type, a hash without {@code d}). */
    NOT_AN_ENTRY(false);

    private final boolean stale;

    Finding(boolean stale) {
        this.stale = stale;
    }

    /** True for the findings that mean a reader is served a value the source no longer holds. */
    public boolean stale() {
        return stale;
    }
}
