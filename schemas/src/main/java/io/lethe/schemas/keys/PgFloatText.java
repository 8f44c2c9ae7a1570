package io.lethe.schemas.keys;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * float4 and float8 as PostgreSQL prints them ({@link PgText#float4}, {@link PgText#float8}): the
 * shortest decimal that reads back as the value (Ryu's choice), laid out fixed-point or as
 * {@code d.ddde+XX}.
 */
final class PgFloatText {
    private PgFloatText() {
    }

    /** float8: the shortest text that reads back as {@code v}, fixed-point for exponents -4 to 14, else {@code 1.5e+20}. */
    static String float8(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "Infinity" : "-Infinity";
        }
        if (v == 0) {
            return Double.doubleToRawLongBits(v) < 0 ? "-0" : "0";
        }
        BigDecimal exact = new BigDecimal(v);
        BigDecimal below = new BigDecimal(Math.nextDown(v));
        // beyond the largest double the gap above is as wide as the one below
        BigDecimal above = Double.isInfinite(Math.nextUp(v)) ? exact.add(exact.subtract(below)) : new BigDecimal(Math.nextUp(v));
        if (Double.isInfinite(Math.nextDown(v))) {
            below = exact.subtract(above.subtract(exact));
        }
        BigDecimal shortest = shortest(exact, below, above, 17);
        return decimal(shortest, 15);
    }

    /** float4: as {@link #float8}, fixed-point for exponents -4 to 5. */
    static String float4(float v) {
        if (Float.isNaN(v)) {
            return "NaN";
        }
        if (Float.isInfinite(v)) {
            return v > 0 ? "Infinity" : "-Infinity";
        }
        if (v == 0) {
            return Float.floatToRawIntBits(v) < 0 ? "-0" : "0";
        }
        BigDecimal exact = new BigDecimal((double) v);
        BigDecimal below = new BigDecimal((double) Math.nextDown(v));
        BigDecimal above = Float.isInfinite(Math.nextUp(v)) ? exact.add(exact.subtract(below)) : new BigDecimal((double) Math.nextUp(v));
        if (Float.isInfinite(Math.nextDown(v))) {
            below = exact.subtract(above.subtract(exact));
        }
        BigDecimal shortest = shortest(exact, below, above, 9);
        return decimal(shortest, 6);
    }

    /**
     * The shortest decimal strictly within half the gap to each neighbour of the binary value
     * {@code exact}, and of those the closest to it: what PostgreSQL's Ryu output picks (it never
     * takes a decimal exactly halfway, even where reading it back would round to the value;
     * KeyRenderingIT's -5.4309587640904336e+16). Computed exactly: BigDecimal.doubleValue() is not
     * always correctly rounded before JDK 19.
     */
    private static BigDecimal shortest(BigDecimal exact, BigDecimal below, BigDecimal above, int maxDigits) {
        BigDecimal low = exact.add(below).divide(BigDecimal.valueOf(2));
        BigDecimal high = exact.add(above).divide(BigDecimal.valueOf(2));
        for (int p = 1; p <= maxDigits; p++) {
            BigDecimal best = null;
            for (RoundingMode mode : new RoundingMode[] {RoundingMode.HALF_EVEN, RoundingMode.FLOOR, RoundingMode.CEILING}) {
                BigDecimal r = exact.round(new MathContext(p, mode));
                int lo = r.compareTo(low);
                int hi = r.compareTo(high);
                boolean inside = lo > 0 && hi < 0;
                if (inside && (best == null || r.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)) {
                    best = r;
                }
            }
            if (best != null) {
                return best;
            }
        }
        return exact;
    }

    /** PostgreSQL's layout of shortest digits: fixed-point when -4 <= exponent < {@code fixedBelow}, else d.ddde+XX. */
    private static String decimal(BigDecimal value, int fixedBelow) {
        BigDecimal d = value.stripTrailingZeros();
        int exponent = d.precision() - d.scale() - 1;
        if (exponent >= -4 && exponent < fixedBelow) {
            return d.toPlainString();
        }
        String digits = d.unscaledValue().abs().toString();
        StringBuilder out = new StringBuilder();
        if (d.signum() < 0) {
            out.append('-');
        }
        out.append(digits.charAt(0));
        if (digits.length() > 1) {
            out.append('.').append(digits, 1, digits.length());
        }
        out.append('e').append(exponent < 0 ? '-' : '+');
        int abs = Math.abs(exponent);
        if (abs < 10) {
            out.append('0');
        }
        return out.append(abs).toString();
    }
}
