package io.lethe.schemas.keys;

import java.util.Locale;

/**
 * Key format 2's escaping of a value's text ({@link KeyFormat}): each of {@link KeyFormat#RESERVED}
 * written {@code %} and its two upper-case hex digits, and the inverse.
 */
final class KeyEscaping {
    private KeyEscaping() {
    }

    /** {@code text} as a key holds it: see {@link KeyFormat#escape}. */
    static String escape(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (KeyFormat.RESERVED.indexOf(c) >= 0) {
                if (out == null) {
                    out = new StringBuilder(text.length() + 8).append(text, 0, i);
                }
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 0xF]);
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** The inverse of {@link #escape}: see {@link KeyFormat#unescape}. */
    static String unescape(String escaped) {
        int percent = escaped.indexOf('%');
        StringBuilder out = new StringBuilder(escaped.length());
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c == '%') {
                String code = i + 3 <= escaped.length() ? escaped.substring(i + 1, i + 3) : "";
                char decoded = code.length() == 2 && code.equals(code.toUpperCase(Locale.ROOT))
                        ? (char) parseHex(code)
                        : 0;
                if (decoded == 0 || KeyFormat.RESERVED.indexOf(decoded) < 0) {
                    throw new IllegalArgumentException("'%" + code + "' at position " + i + " of '" + escaped
                            + "' is not an escaped reserved character (%25 %3A %7B %7D %2A %3F %5B %5D %5C)");
                }
                out.append(decoded);
                i += 2;
            } else if (KeyFormat.RESERVED.indexOf(c) >= 0) {
                throw new IllegalArgumentException("'" + c + "' at position " + i + " of '" + escaped
                        + "' is reserved: a rendered value holds it escaped");
            } else {
                out.append(c);
            }
        }
        return percent < 0 ? escaped : out.toString();
    }

    private static int parseHex(String code) {
        try {
            return Integer.parseInt(code, 16);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
