package io.lethe.region.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Timestamp;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PayloadsTest {

    @Test
    void payloadsCompareByFieldAndNumericValue() {
        assertTrue(Payloads.samePayload("{\"a\":1,\"b\":\"x\"}", "{\"b\":\"x\",\"a\":1}"), "field order does not matter");
        assertTrue(Payloads.samePayload("{\"a\":1.50}", "{\"a\":1.5}"), "numbers compare as numbers");
        assertTrue(Payloads.samePayload("{\"a\":[1,2],\"n\":null}", "{\"a\":[1,2],\"n\":null}"));
        assertFalse(Payloads.samePayload("{\"a\":\"1.50\"}", "{\"a\":\"1.5\"}"), "a numeric column is its text: 1.50 is not 1.5");
        assertFalse(Payloads.samePayload("{\"a\":1}", "{\"a\":1,\"b\":2}"));
        assertFalse(Payloads.samePayload("{\"a\":1}", "{\"a\":2}"));
        assertFalse(Payloads.samePayload("not json", "{\"a\":1}"), "an application's own value is not an upsert payload");
    }

    /**
     * A date or timestamp Java's types cannot hold ({@code infinity}, a year past 9999, a year BC) is
     * not rendered, so the key is not judged: it threw, and one such row stopped the sweep for good.
     */
    @Test
    void datesAndTimestampsJavaCannotHoldAreNotRendered() throws Exception {
        for (String date : List.of("infinity", "-infinity", "10000-01-01", "0044-03-15 BC")) {
            assertEquals(Optional.empty(), Payloads.render(row("date", date, 0), 1, List.of("d")), date);
        }
        for (String ts : List.of("infinity", "-infinity", "10000-01-01 00:00:00", "0044-03-15 12:00:00 BC")) {
            assertEquals(Optional.empty(), Payloads.render(row("timestamp", ts, 6), 1, List.of("t")), ts);
        }
        assertEquals(Optional.of("{\"d\":19723}"), Payloads.render(row("date", "2024-01-01", 0), 1, List.of("d")));
        assertEquals(Optional.of("{\"t\":1704067200123456}"),
                Payloads.render(row("timestamp", "2024-01-01 00:00:00.123456", 6), 1, List.of("t")));
        assertEquals(Optional.of("{\"t\":1704067200120}"), Payloads.render(row("timestamp", "2024-01-01 00:00:00.12", 3), 1, List.of("t")));
    }

    /** One column's value as PgJDBC hands it: its text, and for infinity the driver's sentinel timestamps. */
    private static ResultSet row(String type, String text, int scale) {
        ResultSetMetaData md = (ResultSetMetaData) Proxy.newProxyInstance(PayloadsTest.class.getClassLoader(),
                new Class<?>[] {ResultSetMetaData.class}, (p, m, a) -> switch (m.getName()) {
                    case "getColumnTypeName" -> type;
                    case "getScale" -> scale;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        Timestamp infinity = new Timestamp(9223372036825200000L);
        return (ResultSet) Proxy.newProxyInstance(PayloadsTest.class.getClassLoader(), new Class<?>[] {ResultSet.class},
                (p, m, a) -> switch (m.getName()) {
                    case "getMetaData" -> md;
                    case "getString", "getObject" -> text;
                    case "getDate" -> new java.sql.Date(text.contains("infinity") ? infinity.getTime() : 0L);
                    case "getTimestamp" -> text.contains("infinity") ? infinity : Timestamp.valueOf(text.replace(" BC", ""));
                    case "wasNull" -> false;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }
}
