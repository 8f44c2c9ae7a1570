package io.lethe.config;

/** What a change does to a namespace's row-scoped keys. */
public enum Mode {
    /** Delete entries (the default); readers refill on the next miss. */
    DELETE,
    /** Write the new payload (for hot keys); only for row-scoped keys. */
    UPSERT
}
