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
 * {@code lethe verify --scenario add-region} in {@code mvn verify} (not among the fast scenarios):
 * while a writer updates rows and readers read through cache-client in every region, a region is
 * added on a Redis that already holds entries (some stale), listed first in lethe.yml, and another
 * region's subscriptions change with a rolling restart of streams and that region; {@code lethe
 * config --check} says what moves before each change; 0 stale by the first judge and by {@code
 * lethe inspect}.
 */
@ExtendWith(LetheStackExtension.class)
class AddRegionIT {
    @Test
    void aRegionAddedAndAnotherReSubscribedWhileRunningLeaveNothingStale(EmbeddedStack stack) {
        List<ScenarioResult> results = Scenarios.run(stack, List.of("add-region"), Map.of("regions", "3"), System.out);
        Scenarios.report(results, System.out);
        ScenarioResult r = results.get(0);
        assertTrue(r.passed(), () -> "add-region: " + r.stale() + " stale, " + r.lost() + " lost, failures " + r.failures()
                + "\n  " + String.join("\n  ", r.details()));
        assertTrue(r.checked() > 0, "the judge compared entries with the database: " + r.checked());
    }
}
