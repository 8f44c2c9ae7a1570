package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cli.verify.scenario.ScenarioResult;
import io.lethe.cli.verify.scenario.Scenarios;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.LetheStackExtension;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The fast scenarios of {@code lethe verify --scenario}, each against the real pipeline on the
 * shared embedded stack: after quiescence no entry in any region may differ from the database,
 * and each scenario's own expectations must hold. Every one of them failed on the main branch
 * before the fail-closed changes (see docs/design.md, "How Lethe fails closed").
 * {@code -Dlethe.scenario=<name>[,<name>...]} runs only those (fast or not), one at a time.
 */
@ExtendWith(LetheStackExtension.class)
class ScenarioCatalogIT {
    @TestFactory
    Stream<DynamicTest> everyFastScenarioLeavesNoStaleEntry(EmbeddedStack stack) {
        // -Dlethe.scenario=a,b runs only those (any of the catalogue, fast or not)
        String only = System.getProperty("lethe.scenario", "");
        List<String> names = only.isBlank() ? Scenarios.fast() : List.of(only.split(","));
        return names.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            List<ScenarioResult> results = Scenarios.run(stack, List.of(name), System.out);
            Scenarios.report(results, System.out);
            ScenarioResult r = results.get(0);
            assertTrue(r.passed(), () -> name + ": " + r.stale() + " stale, " + r.lost() + " lost, failures " + r.failures()
                    + "\n  " + String.join("\n  ", r.details()));
        }));
    }
}
