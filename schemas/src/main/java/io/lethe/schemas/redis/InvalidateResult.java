package io.lethe.schemas.redis;

/** What {@code invalidate.lua} did to the entry. */
public enum InvalidateResult {
    ABSENT(0, "absent"), DELETED(1, "deleted"), KEPT_NEWER(2, "kept-newer");

    private final long code;
    private final String tag;

    InvalidateResult(long code, String tag) {
        this.code = code;
        this.tag = tag;
    }

    /** The metric tag value ({@code result=deleted}). */
    public String tag() {
        return tag;
    }

    public static InvalidateResult of(long code) {
        for (InvalidateResult r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new IllegalArgumentException("invalidate.lua returned unknown code " + code);
    }
}
