package io.lethe.schemas;

/**
 * Compares versions the way the Lua scripts do: as non-negative decimal strings of any length
 * (no 2^53 limit), leading zeros ignored.
 */
public final class Versions {
    /**
     * 2^64 - 1, the largest version Lethe accepts: an invalidation at this version deletes any
     * entry (used where the exact version cannot be known).
     */
    public static final String MAX = "18446744073709551615";

    /**
     * 2^63 - 1, the largest version an upsert may carry: the largest value of PostgreSQL's
     * {@code bigint}, the widest integer type a version column (a JPA {@code @Version}, a counter)
     * holds in practice. A delete may carry up to {@link #MAX} (its fence expires after the fence
     * TTL); an upsert's version stays as long as its entry, refusing every later upsert and fill
     * below it, so streams upserts only at or below this version (a row whose version column holds
     * more is deleted instead) and a region refuses an upsert above it as
     * {@link DlqReason#VERSION_OUT_OF_RANGE}. In {@code lsn} namespaces the version is the LSN,
     * a {@code bigint} as well.
     */
    public static final String MAX_UPSERT = Long.toString(Long.MAX_VALUE);

    private Versions() {
    }

    /** Negative, zero or positive as {@code a} is below, equal to or above {@code b}. */
    public static int compare(String a, String b) {
        String x = canonical(a);
        String y = canonical(b);
        if (x.length() != y.length()) {
            return Integer.compare(x.length(), y.length());
        }
        return x.compareTo(y);
    }

    /**
     * The version one above {@code version} (a decimal of 0 to {@link #MAX}), {@link #MAX} for
     * {@link #MAX}: what a DELETE in a column-versioned namespace fences with, so that a fill of the
     * deleted row, which carries at most the row's own version, is below the fence and refused.
     */
    public static String next(String version) {
        String v = canonical(version);
        if (compare(v, MAX) >= 0) {
            return MAX;
        }
        char[] digits = v.toCharArray();
        int i = digits.length - 1;
        while (i >= 0 && digits[i] == '9') {
            digits[i--] = '0';
        }
        if (i < 0) {
            return "1" + new String(digits);
        }
        digits[i]++;
        return new String(digits);
    }

    /** The version without leading zeros ("0" for all zeros). */
    public static String canonical(String version) {
        int i = 0;
        while (i < version.length() - 1 && version.charAt(i) == '0') {
            i++;
        }
        return version.substring(i);
    }
}
