package io.lethe.config;

/**
 * Where a namespace's versions come from: the row change's LSN ({@code lsn}), or a column the
 * application maintains ({@code column:<name>}, e.g. a JPA {@code @Version}), which its readers
 * can see and so tag what they load.
 *
 * @param column the version column, or null for the LSN
 */
public record VersionSource(String column) {
    public static final VersionSource LSN = new VersionSource(null);

    public boolean isLsn() {
        return column == null;
    }

    @Override
    public String toString() {
        return isLsn() ? "lsn" : "column:" + column;
    }
}
