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

    /** The version without leading zeros ("0" for all zeros). */
    public static String canonical(String version) {
        int i = 0;
        while (i < version.length() - 1 && version.charAt(i) == '0') {
            i++;
        }
        return version.substring(i);
    }
}
