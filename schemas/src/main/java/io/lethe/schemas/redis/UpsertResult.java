package io.lethe.schemas.redis;

/** What {@code upsert.lua} did. */
public enum UpsertResult {
    UPSERTED(3, "upserted"),
    /** Refused: the entry is as new as the upsert or newer, and was kept. */
    REFUSED(2, "refused"),
    /** Refused by the fence (an invalidation at least as new): the entry was deleted, as invalidate.lua would. */
    DELETED(1, "deleted"),
    /** Refused by the fence, and there was no entry. */
    ABSENT(0, "absent");

    private final long code;
    private final String tag;

    UpsertResult(long code, String tag) {
        this.code = code;
        this.tag = tag;
    }

    /** The metric tag value ({@code result=upserted}). */
    public String tag() {
        return tag;
    }

    public static UpsertResult of(long code) {
        for (UpsertResult r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new IllegalArgumentException("upsert.lua returned unknown code " + code);
    }
}
