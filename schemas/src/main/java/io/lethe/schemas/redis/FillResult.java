package io.lethe.schemas.redis;

/** What {@code fill.lua} decided. */
public enum FillResult {
    ACCEPTED(1),
    /** A versioned entry at least as new is already cached. */
    REFUSED_NEWER_ENTRY(2),
    /** The loaded version is below the highest invalidated version. */
    REFUSED_FENCE_VERSION(3),
    /** Unknown version, and an invalidation landed between the miss and the fill. */
    REFUSED_FENCE_MOVED(4);

    private final long code;

    FillResult(long code) {
        this.code = code;
    }

    public boolean accepted() {
        return this == ACCEPTED;
    }

    public static FillResult of(long code) {
        for (FillResult r : values()) {
            if (r.code == code) {
                return r;
            }
        }
        throw new IllegalArgumentException("fill.lua returned unknown code " + code);
    }
}
