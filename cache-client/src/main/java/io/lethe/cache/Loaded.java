package io.lethe.cache;

/**
 * What a loader found in the database.
 *
 * @param value   the value (null when not found)
 * @param version the row's version as a decimal string when the loader knows it (a version
 *                column the namespace uses, or the LSN), else null: then the fill is protected by
 *                the fence counter instead
 * @param found   false when the database has no such row (negative caching)
 */
public record Loaded<T>(T value, String version, boolean found) {

    /** A value whose version the loader does not know. */
    public static <T> Loaded<T> of(T value) {
        return new Loaded<>(value, null, true);
    }

    /** A value with the version it was read at. */
    public static <T> Loaded<T> of(T value, long version) {
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0, was " + version);
        }
        return new Loaded<>(value, Long.toString(version), true);
    }

    /** The database has no such row. */
    public static <T> Loaded<T> notFound() {
        return new Loaded<>(null, null, false);
    }
}
