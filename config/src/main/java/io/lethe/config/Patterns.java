package io.lethe.config;

/** Checks on Redis glob patterns. */
public final class Patterns {
    private Patterns() {
    }

    /** True when the glob matches every key: it consists only of {@code *} (and {@code ?*} forms). */
    public static boolean matchesEverything(String glob) {
        if (glob.isEmpty()) {
            return false;
        }
        boolean star = false;
        for (char c : glob.toCharArray()) {
            if (c == '*') {
                star = true;
            } else if (c != '?') {
                return false;
            }
        }
        // "*", "**", "?*" (every non-empty key; Redis has no empty keys)
        return star && glob.chars().filter(c -> c == '?').count() <= 1;
    }
}
