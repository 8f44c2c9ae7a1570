package io.lethe.schemas.redis;

/** What {@code upsert.lua} did. */
public enum UpsertResult {
    UPSERTED(3, "upserted"),
    REFUSED(2, "refused");

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
