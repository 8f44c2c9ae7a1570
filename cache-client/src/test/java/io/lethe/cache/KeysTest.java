package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Applications render keys with Lethe's own renderer; the expected strings are what PostgreSQL 17
 * prints for each value ({@code SELECT v::text} with {@code TimeZone=UTC}), as KeyRenderingIT
 * checks against the server type by type.
 */
class KeysTest {
    @Test
    void rendersEachJavaValueAsPostgresPrintsIt() {
        Map<Object, String> cases = new LinkedHashMap<>();
        cases.put(42, "42");
        cases.put(-9223372036854775808L, "-9223372036854775808");
        cases.put((short) -32768, "-32768");
        cases.put(new BigDecimal("1.5000"), "1.5000");
        cases.put(new BigDecimal("0.0000001"), "0.0000001");
        cases.put(new BigDecimal("1E+20"), "100000000000000000000");
        cases.put(0.1, "0.1");
        cases.put(-0.0, "-0");
        cases.put(Double.NaN, "NaN");
        cases.put(Double.NEGATIVE_INFINITY, "-Infinity");
        cases.put(1e15, "1e+15");
        cases.put(123456789012345.0, "123456789012345");
        cases.put(1e-4, "0.0001");
        cases.put(1e-5, "1e-05");
        cases.put(1.0 / 3, "0.3333333333333333");
        cases.put(5e-324, "5e-324");
        cases.put(1.7976931348623157e308, "1.7976931348623157e+308");
        cases.put(1e6f, "1e+06");
        cases.put(123456f, "123456");
        cases.put(3.4e38f, "3.4e+38");
        cases.put((float) (1 / 3.0), "0.33333334");
        cases.put(true, "true");
        cases.put(UUID.fromString("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        cases.put(LocalDate.of(1999, 12, 31), "1999-12-31");
        cases.put(LocalDate.of(-43, 3, 15), "0044-03-15 BC");
        cases.put(LocalDate.of(10000, 1, 1), "10000-01-01");
        cases.put(LocalDate.MAX, "infinity");
        cases.put(LocalDateTime.MIN, "-infinity");
        cases.put(LocalTime.of(1, 2, 3, 100_000), "01:02:03.0001");
        cases.put(LocalTime.MIDNIGHT, "00:00:00");
        cases.put(LocalDateTime.of(2000, 1, 1, 0, 0, 0, 500_000_000), "2000-01-01 00:00:00.5");
        cases.put(LocalDateTime.of(-43, 3, 15, 12, 0), "0044-03-15 12:00:00 BC");
        cases.put(OffsetDateTime.parse("2000-01-01T00:00:00.5+05:30"), "1999-12-31 18:30:00.5+00");
        cases.put(Instant.parse("2024-06-30T23:59:59.123456Z"), "2024-06-30 23:59:59.123456+00");
        cases.put(new byte[] {0, (byte) 0xff, 0x10}, "\\x00ff10");
        cases.put(new byte[0], "\\x");
        cases.put("t 1 \"q' \\ é", "t 1 \"q' \\ é");
        Map<String, String> wrong = new LinkedHashMap<>();
        cases.forEach((value, expected) -> {
            String got = Keys.text(value);
            if (!expected.equals(got)) {
                wrong.put(value.getClass().getSimpleName() + " " + value, "expected " + expected + " but was " + got);
            }
        });
        assertEquals(Map.of(), wrong);
    }

    @Test
    void rendersTemplatesAsLetheDoes() {
        Keys orders = Keys.template("customer:{{{customer_id}}}:orders:{day}");
        assertEquals(java.util.List.of("customer_id", "day"), orders.columns());
        assertEquals("customer:{42}:orders:1999-12-31", orders.render(Map.of("customer_id", 42, "day", LocalDate.of(1999, 12, 31))));
        assertEquals("customer:{42}:orders:1999-12-31", orders.render(42, LocalDate.of(1999, 12, 31)));
        Map<String, Object> nullDay = new LinkedHashMap<>();
        nullDay.put("customer_id", 42);
        nullDay.put("day", null);
        assertThrows(IllegalArgumentException.class, () -> orders.render(nullDay), "a NULL column renders no key");
        assertThrows(IllegalArgumentException.class, () -> orders.render(Map.of("customer_id", 42)));
        assertThrows(IllegalArgumentException.class, () -> Keys.template("p:{id").render(1));
        IllegalArgumentException noText = assertThrows(IllegalArgumentException.class,
                () -> Keys.template("p:{tags}").render(java.util.List.of("a")));
        assertEquals(true, noText.getMessage().contains("col::text"), noText.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Keys.text(new java.sql.Timestamp(0)),
                "timestamp or timestamptz: ambiguous");
        assertEquals("p:x", Keys.template("p:{s}").render("x".getBytes(StandardCharsets.UTF_8).length == 1 ? "x" : "?"));
    }
}
