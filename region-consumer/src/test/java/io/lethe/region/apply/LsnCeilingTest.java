package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.schemas.Watermark;
import org.junit.jupiter.api.Test;

/** The reference of the LSN ceiling is kept per source history, and lifted by a reset that deletes whatever is there. */
class LsnCeilingTest {
    private static Watermark at(long lsn, String history) {
        return new Watermark(1, lsn, 0, history);
    }

    @Test
    void aNewHistoryStartsAgainFromItsOwnWatermarkAndTheOldOnesNoLongerMoveIt() {
        LsnCeiling ceiling = new LsnCeiling();
        ceiling.watermark(at(10_000_000, "h/1"));
        ceiling.watermark(at(1_000, "h/2")); // a restore: the new history's positions are behind
        assertEquals(1_000, ceiling.reference(), "the old history's 10,000,000 says nothing of the new one's reach");
        ceiling.watermark(at(10_000_500, "h/1")); // the old history's, still on its way from another partition
        assertEquals(1_000, ceiling.reference());
        ceiling.watermark(at(2_000, "h/2"));
        assertEquals(2_000, ceiling.reference());
    }

    @Test
    void aWholesaleResetLiftsItUntilTheHistoryIsKnownToGoOn() {
        LsnCeiling ceiling = new LsnCeiling();
        ceiling.seed(5_000);
        ceiling.watermark(at(4_000, "h/1"));
        assertEquals(5_000, ceiling.reference(), "a seed is kept: its history is unknown");
        ceiling.lift();
        assertEquals(-1, ceiling.reference());
        ceiling.watermark(at(5_000, "h/1")); // perhaps the old history's last, still on its way
        assertEquals(-1, ceiling.reference());
        ceiling.watermark(at(5_100, "h/1")); // the same history went on past the reset: it did not change
        assertEquals(5_100, ceiling.reference());
        ceiling.lift();
        ceiling.watermark(at(9_000_000, "h/2"));
        assertEquals(9_000_000, ceiling.reference(), "a new history's first watermark");
    }

    @Test
    void aLiftBeforeAnyWatermarkEndsWithTheFirst() {
        LsnCeiling ceiling = new LsnCeiling();
        ceiling.seed(9_000_000); // the applied watermark of the old history, kept in Redis
        ceiling.lift();
        ceiling.watermark(at(1_000, "h/2"));
        assertEquals(1_000, ceiling.reference(), "the seed's history is unknown: the first watermark after the lift replaces it");
    }
}
