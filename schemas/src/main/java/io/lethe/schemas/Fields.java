package io.lethe.schemas;

/** Field checks shared by the event records; every failure names the field. */
final class Fields {
    private Fields() {
    }

    static <T> T require(String field, T value) {
        if (value == null) {
            throw new SchemaViolationException(field, "is required");
        }
        if (value instanceof String s && s.isEmpty()) {
            throw new SchemaViolationException(field, "must not be empty");
        }
        return value;
    }

    static String requireDecimal(String field, String value) {
        require(field, value);
        if (!isDecimal(value)) {
            throw new SchemaViolationException(field,
                    "must be a non-negative decimal integer without leading zeros, was '" + value + "'");
        }
        return value;
    }

    /**
     * {@code 0|[1-9][0-9]*}, ASCII digits only. A loop, not a regex: every event checks its
     * version, several times a row (capture, streams, each region), and a matcher per check cost
     * more than the rest of the check.
     */
    static boolean isDecimal(String value) {
        int n = value.length();
        if (n == 0) {
            return false;
        }
        char first = value.charAt(0);
        if (first == '0') {
            return n == 1;
        }
        if (first < '1' || first > '9') {
            return false;
        }
        for (int i = 1; i < n; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    static long requireNonNegative(String field, long value) {
        if (value < 0) {
            throw new SchemaViolationException(field, "must be >= 0, was " + value);
        }
        return value;
    }
}
