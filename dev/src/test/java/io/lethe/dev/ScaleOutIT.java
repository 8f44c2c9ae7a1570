package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.dev.verify.scenario.ScenarioResult;
import io.lethe.dev.verify.scenario.Scenarios;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.LetheStackExtension;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code lethe verify --scenario scale-out} in {@code mvn verify} (it is not among the fast
 * scenarios, ~2.5 min here): two workers each running streams and a consumer of both regions,
 * {@code lethe.changes} and the region topic expanded from 3 to 6 partitions mid-burst, one worker
 * killed with SIGKILL and a third started; 0 stale, 0 lost, no token read older than its write, a
 * fresh token covered over 6 partitions, {@code lethe lag} caught up.
 */
@ExtendWith(LetheStackExtension.class)
class ScaleOutIT {
    @Test
    void twoInstancesOfEveryStageAKillAndPartitionsAddedWhileRunningLeaveNothingStale(EmbeddedStack stack) {
        List<ScenarioResult> results = Scenarios.run(stack, List.of("scale-out"), Map.of("regions", "2"), System.out);
        Scenarios.report(results, System.out);
        ScenarioResult r = results.get(0);
        assertTrue(r.passed(), () -> "scale-out: " + r.stale() + " stale, " + r.lost() + " lost, failures " + r.failures()
                + "\n  " + String.join("\n  ", r.details()));
        assertTrue(r.checked() > 0, "the judge compared entries with the database");
    }
}
