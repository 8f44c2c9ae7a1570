package io.lethe.schemas;

import java.util.regex.Pattern;

/** Field checks shared by the event records; every failure names the field. */
final class Fields {
    private static final Pattern DECIMAL = Pattern.compile("0|[1-9][0-9]*");

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
        if (!DECIMAL.matcher(value).matches()) {
            throw new SchemaViolationException(field,
                    "must be a non-negative decimal integer without leading zeros, was '" + value + "'");
        }
        return value;
    }

    static long requireNonNegative(String field, long value) {
        if (value < 0) {
            throw new SchemaViolationException(field, "must be >= 0, was " + value);
        }
        return value;
    }
}
