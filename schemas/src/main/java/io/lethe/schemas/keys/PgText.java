package io.lethe.schemas.keys;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.UUID;

/**
 * The rendering rule of key templates: a value is rendered as the text PostgreSQL itself prints
 * for it, what {@code col::text} returns in a session with {@code TimeZone = 'UTC'} and the
 * defaults of every other output setting ({@code DateStyle = 'ISO, MDY'}, {@code
 * IntervalStyle = postgres}, {@code extra_float_digits = 1}, {@code bytea_output = hex}).
 * Lethe's pipeline and applications (through cache-client's {@code Keys}) build keys with this
 * class, so both sides agree byte for byte. The types it covers, and the ones refused at
 * start-up, are listed in {@link PgTypes}.
 *
 * <p>{@link #of(Object)} takes the Java values an application holds for a column (what the
 * PostgreSQL JDBC driver returns for it, or its text).
 */
public final class PgText {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private PgText() {
    }

    /**
     * The text PostgreSQL prints for a value.
     *
     * <ul>
     *   <li>{@code String}: already PostgreSQL's text (e.g. what {@code SELECT col::text} returned), unchanged;
     *   <li>{@code Short}, {@code Integer}, {@code Long}, {@code BigInteger}: decimal;
     *   <li>{@code BigDecimal} (numeric): plain, keeping its scale ({@code 1.5000} for numeric(14,4));
     *   <li>{@code Float} (float4), {@code Double} (float8): PostgreSQL's shortest exact text ({@code 1e+20}, {@code -0}, {@code NaN});
     *   <li>{@code Boolean}: {@code true} / {@code false};
     *   <li>{@code UUID}: lower-case;
     *   <li>{@code LocalDate} (date), {@code LocalTime} (time), {@code LocalDateTime} (timestamp): ISO, BC years
     *       as PostgreSQL prints them, {@code MAX}/{@code MIN} as {@code infinity}/{@code -infinity} (as the JDBC driver maps them);
     *   <li>{@code OffsetDateTime}, {@code ZonedDateTime}, {@code Instant} (timestamptz): in UTC, {@code +00};
     *   <li>{@code byte[]} (bytea): {@code \x} and lower-case hex.
     * </ul>
     *
     * A {@code String} is taken as PostgreSQL's text as it is: for char(n) pass it without its padding
     * (what {@code col::text} returns, not {@code getString}), for bit(1) pass {@code 1}/{@code 0} (the
     * driver returns a Boolean for it), and for inet the text with its mask. {@code java.sql.Timestamp}
     * is refused: the driver returns it for timestamp and timestamptz alike.
     *
     * @throws IllegalArgumentException for null and any other class: it has no defined rendering
     */
    public static String of(Object value) {
        if (value == null) {
            throw new IllegalArgumentException("null has no key text: a NULL column renders no key");
        }
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof Short || value instanceof Integer || value instanceof Long || value instanceof BigInteger
                || value instanceof Byte) {
            return value.toString();
        }
        if (value instanceof BigDecimal d) {
            return d.toPlainString();
        }
        if (value instanceof Float f) {
            return float4(f);
        }
        if (value instanceof Double d) {
            return float8(d);
        }
        if (value instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (value instanceof UUID u) {
            return u.toString();
        }
        if (value instanceof Character c) {
            return c.toString();
        }
        if (value instanceof LocalDate d) {
            return d.equals(LocalDate.MAX) ? "infinity" : d.equals(LocalDate.MIN) ? "-infinity" : date(d);
        }
        if (value instanceof LocalTime t) {
            return time(t.toNanoOfDay() / 1_000);
        }
        if (value instanceof LocalDateTime t) {
            return t.equals(LocalDateTime.MAX) ? "infinity" : t.equals(LocalDateTime.MIN) ? "-infinity" : timestamp(t);
        }
        if (value instanceof OffsetDateTime t) {
            return t.equals(OffsetDateTime.MAX) ? "infinity" : t.equals(OffsetDateTime.MIN) ? "-infinity" : timestamptz(t.toInstant());
        }
        if (value instanceof ZonedDateTime t) {
            return timestamptz(t.toInstant());
        }
        if (value instanceof Instant t) {
            return timestamptz(t);
        }
        if (value instanceof java.sql.Timestamp) {
            // the driver returns one for timestamp and for timestamptz alike: which text it stands for is unknown
            throw new IllegalArgumentException("a java.sql.Timestamp may be a timestamp or a timestamptz: pass a LocalDateTime "
                    + "(timestamp) or an OffsetDateTime (timestamptz), e.g. rs.getObject(i, OffsetDateTime.class)");
        }
        if (value instanceof java.sql.Date d) {
            return date(d.toLocalDate());
        }
        if (value instanceof byte[] bytes) {
            return bytea(bytes);
        }
        throw new IllegalArgumentException("no key text is defined for a " + value.getClass().getName()
                + "; pass PostgreSQL's own text for it (SELECT col::text)");
    }

    /** float8: the shortest text that reads back as {@code v}, fixed-point for exponents -4 to 14, else {@code 1.5e+20}. */
    public static String float8(double v) {
        return PgFloatText.float8(v);
    }

    /** float4: as {@link #float8}, fixed-point for exponents -4 to 5. */
    public static String float4(float v) {
        return PgFloatText.float4(v);
    }

    /** date: {@code 1999-12-31}, {@code 0044-03-15 BC}, {@code 10000-01-01}. */
    public static String date(LocalDate d) {
        StringBuilder out = new StringBuilder(13);
        appendDate(out, d);
        if (d.getYear() <= 0) {
            out.append(" BC");
        }
        return out.toString();
    }

    private static void appendDate(StringBuilder out, LocalDate d) {
        int year = d.getYear() <= 0 ? 1 - d.getYear() : d.getYear();
        pad(out, year, 4);
        out.append('-');
        pad(out, d.getMonthValue(), 2);
        out.append('-');
        pad(out, d.getDayOfMonth(), 2);
    }

    /** time from microseconds after midnight (up to 24:00:00): {@code 12:00:00.5}. */
    public static String time(long micros) {
        StringBuilder out = new StringBuilder(15);
        appendTime(out, micros);
        return out.toString();
    }

    private static void appendTime(StringBuilder out, long micros) {
        long seconds = micros / 1_000_000;
        int fraction = (int) (micros % 1_000_000);
        pad(out, (int) (seconds / 3600), 2);
        out.append(':');
        pad(out, (int) (seconds / 60 % 60), 2);
        out.append(':');
        pad(out, (int) (seconds % 60), 2);
        if (fraction != 0) {
            StringBuilder f = new StringBuilder();
            pad(f, fraction, 6);
            int end = f.length();
            while (f.charAt(end - 1) == '0') {
                end--;
            }
            out.append('.').append(f, 0, end);
        }
    }

    /** timestamp: {@code 2000-01-01 00:00:00.5}, {@code 0044-03-15 12:00:00 BC}. */
    public static String timestamp(LocalDateTime t) {
        StringBuilder out = new StringBuilder(26);
        appendDate(out, t.toLocalDate());
        out.append(' ');
        appendTime(out, t.toLocalTime().toNanoOfDay() / 1_000);
        if (t.getYear() <= 0) {
            out.append(" BC");
        }
        return out.toString();
    }

    /** timestamptz, in UTC: {@code 2000-01-01 00:00:00.5+00}, {@code 0044-03-15 12:00:00+00 BC}. */
    public static String timestamptz(Instant t) {
        LocalDateTime utc = LocalDateTime.ofInstant(t, ZoneOffset.UTC);
        StringBuilder out = new StringBuilder(29);
        appendDate(out, utc.toLocalDate());
        out.append(' ');
        appendTime(out, utc.toLocalTime().toNanoOfDay() / 1_000);
        out.append("+00");
        if (utc.getYear() <= 0) {
            out.append(" BC");
        }
        return out.toString();
    }

    /** bytea: {@code \x00ff}. */
    public static String bytea(byte[] bytes) {
        StringBuilder out = new StringBuilder(2 + bytes.length * 2).append("\\x");
        for (byte b : bytes) {
            out.append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
        }
        return out.toString();
    }

    /** char(n) as text: PostgreSQL drops the padding spaces when it casts to text. */
    public static String bpchar(String padded) {
        int end = padded.length();
        while (end > 0 && padded.charAt(end - 1) == ' ') {
            end--;
        }
        return padded.substring(0, end);
    }

    /** inet as text: always with its mask ({@code 10.0.0.1/32}), which inet's own output leaves out for a host. */
    public static String inet(String address) {
        if (address.indexOf('/') >= 0) {
            return address;
        }
        return address + (address.indexOf(':') >= 0 ? "/128" : "/32");
    }

    private static void pad(StringBuilder out, int value, int width) {
        String s = Integer.toString(value);
        for (int i = s.length(); i < width; i++) {
            out.append('0');
        }
        out.append(s);
    }
}
