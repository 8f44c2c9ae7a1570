package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.dev.verify.VerifyRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short seeded {@code lethe verify}: its own servers, every stage in its own process, faults
 * at seeded random times; afterwards no cached entry may differ from the database and no
 * invalidation may be missing.
 */
class VerifyIT {

    @Test
    void aSeededFaultRunLeavesNoStaleEntry(@TempDir Path dir) throws Exception {
        VerifyRun.Result r = new VerifyRun(new VerifyRun.Options(11, Duration.ofSeconds(60), List.of("us-east", "eu-west"),
                dir, 12), System.out).run();
        r.details().forEach(System.out::println);
        assertFalse(r.faults().isEmpty(), "faults were injected");
        assertTrue(r.commits() > 0 && r.reads() > 0, "writers and readers ran: " + r.commits() + " commits, " + r.reads() + " reads");
        assertTrue(r.checkedEntries() > 0, "cached entries were there to check");
        assertEquals(0, r.lostInvalidations(), "invalidations lost");
        assertEquals(0, r.staleEntries(), "stale entries after the drain");
        assertEquals(2, r.inspector().size(), () -> "the second judge inspected both regions: " + r.inspector());
        assertEquals(0, r.inspectorStale(), () -> "entries the second judge confirmed stale: " + r.details());
    }
}
