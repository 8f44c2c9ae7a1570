package io.lethe.capture.topics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** What a heartbeat lets a watermark claim: the highest LSN written before it, never less, within one source history. */
class CoverageTest {
    private static final TopicPartition P0 = new TopicPartition("dbz.public.items", 0);

    @Test
    void aWatermarkClaimsTheHighestLsnBeforeItsHeartbeatAndNeverLess() {
        Coverage coverage = new Coverage();
        coverage.translated(P0, 0, 1_000);
        coverage.translated(P0, 1, 1_200);
        assertEquals(1_000, coverage.cover(Map.of(P0, 1L)), "only the change before the heartbeat");
        assertEquals(1_200, coverage.cover(Map.of(P0, 2L)));
        assertEquals(1_200, coverage.cover(Map.of(P0, 2L)), "no change since: the same");
    }

    @Test
    void anotherHistoryStartsAgainBelowWhatTheOldOneClaimed() {
        Coverage coverage = new Coverage();
        coverage.translated(P0, 0, 5_000);
        assertEquals(5_000, coverage.cover(Map.of(P0, 1L)));
        coverage.published(5_000);
        // restored: the new history's LSNs are lower; an old change translated before the new history was seen claims nothing
        coverage.translated(P0, 1, 4_000);
        coverage.newHistory(Map.of(P0, 2L));
        coverage.translated(P0, 2, 900);
        assertEquals(900, coverage.cover(Map.of(P0, 3L)), "the old history's 5000 would cover every token of the new one below it");
        assertEquals(5_000, coverage.maxLsn(), "resets keep the highest LSN published");
    }

    @Test
    void aChangeBelowTheFenceClaimsNothingWhenTranslatedAfter() {
        Coverage coverage = new Coverage();
        coverage.newHistory(Map.of(P0, 1L)); // the new history taken on while offset 0 was unread
        coverage.translated(P0, 0, 9_000); // the old timeline's, read late
        assertEquals(0, coverage.cover(Map.of(P0, 1L)), "nothing beyond the fence yet");
        coverage.translated(P0, 1, 4_000);
        assertEquals(4_000, coverage.cover(Map.of(P0, 2L)));
        coverage.published(9_000);
        assertEquals(9_000, coverage.maxLsn(), "resets still use the highest LSN published (a reset deletes more, never less)");
    }
}
