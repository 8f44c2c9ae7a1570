package io.lethe.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class FieldsTest {
    /** The rule as it was written before: the loop must accept exactly what this accepts. */
    private static final Pattern DECIMAL = Pattern.compile("0|[1-9][0-9]*");

    @Test
    void aDecimalIsZeroOrDigitsWithoutALeadingZero() {
        String[] samples = {"0", "1", "9", "10", "26220112", "18446744073709551615", "99999999999999999999999",
                "", "00", "01", "007", "-1", "+1", "1a", "a1", " 1", "1 ", "1.0", "1e3", "0x1", "١٢", "１", "1\n", "\u0000"};
        for (String s : samples) {
            assertEquals(DECIMAL.matcher(s).matches(), Fields.isDecimal(s), "'" + s + "'");
        }
    }
}
