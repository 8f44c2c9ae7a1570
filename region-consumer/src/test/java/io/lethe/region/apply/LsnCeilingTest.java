package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.schemas.Watermark;
import org.junit.jupiter.api.Test;

/**
 * The reference of the LSN ceiling only grows (over every history), and a signed wholesale reset lifts it for signed
 * records until a watermark reaches the reset's position.
 */
class LsnCeilingTest {
    private static Watermark at(long lsn, String history) {
        return new Watermark(1, lsn, 0, history);
    }

    @Test
    void itOnlyGrowsWhateverTheOrderOfTheHistoriesWatermarks() {
        LsnCeiling ceiling = new LsnCeiling();
        ceiling.watermark(at(10_000_000, "h/2")); // the new history's, from a partition ahead
        ceiling.watermark(at(1_000, "h/1")); // the old history's, still on its way (or a copy of an old one)
        assertEquals(10_000_000, ceiling.reference(true), "an old or copied watermark never lowers it");
        assertEquals(10_000_000, ceiling.reference(false));
    }

    @Test
    void aSignedWholesaleResetLiftsItForSignedRecordsUntilAWatermarkReachesIt() {
        LsnCeiling ceiling = new LsnCeiling();
        ceiling.seed(5_000);
        ceiling.lift(9_000_000); // capture's reset after a switch to a source far ahead
        assertEquals(-1, ceiling.reference(true));
        assertEquals(5_000, ceiling.reference(false), "unsigned records stay bound");
        ceiling.watermark(at(5_100, "h/1")); // the old history's last, still on its way: below the reset
        assertEquals(-1, ceiling.reference(true));
        ceiling.watermark(at(9_000_100, "h/2"));
        assertEquals(9_000_100, ceiling.reference(true), "the new history's watermark: the ceiling holds again from there");
    }
}
