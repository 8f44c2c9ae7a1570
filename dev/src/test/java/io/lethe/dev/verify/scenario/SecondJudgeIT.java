package io.lethe.dev.verify.scenario;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.LetheStackExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The second judge of {@code lethe verify} ({@link SecondJudge}): an entry the scenario's own
 * judge does not look at, and that no row holds, fails the scenario once the inspector confirms it.
 */
@ExtendWith(LetheStackExtension.class)
class SecondJudgeIT {
    @Test
    void aStaleEntryTheFirstJudgeDoesNotJudgeFailsTheScenario(EmbeddedStack stack) throws Exception {
        ScenarioRun run = new ScenarioRun(stack, stack.regions(), "second-judge");
        ScenarioResult result;
        String ghost = run.p() + "item:999";
        try {
            Items.create(run, 10);
            run.start(run.config(Items.namespace(run, "")));
            run.truth(key -> null); // the first judge judges nothing
            run.secondJudge();
            run.fillEverywhere(ghost, "5", "ghost"); // a value no row has: ROW_GONE
            run.fillEverywhere(run.p() + "item:3", "5", "v3"); // a value the inspector cannot judge (lsn versions): not a failure
            run.quiesce();
            result = run.judge("second-judge", List.of());
        } finally {
            run.close();
        }
        ScenarioResult r = result;
        assertFalse(r.passed(), () -> "the scenario passed with a ghost entry: " + r.details());
        assertTrue(r.failures().stream().allMatch(f -> f.contains("ROW_GONE") && f.contains(ghost)), () -> "failures: " + r.failures());
        assertTrue(r.failures().size() == stack.regions().size(), () -> "one failure per region: " + r.failures());
        assertTrue(r.done().stream().anyMatch(d -> d.startsWith("inspector (second judge)")), () -> "done: " + r.done());
    }
}
