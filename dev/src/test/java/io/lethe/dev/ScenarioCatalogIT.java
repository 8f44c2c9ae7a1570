package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.dev.verify.scenario.ScenarioResult;
import io.lethe.dev.verify.scenario.Scenarios;
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
 * {@code -Dlethe.scenario=<name>[,<name>...]} runs only those (fast or not), one at a time;
 * {@code -Dlethe.scenario-settings=name=value,...} gives them settings (e.g. the steady scenario's load).
 */
@ExtendWith(LetheStackExtension.class)
class ScenarioCatalogIT {
    @TestFactory
    Stream<DynamicTest> everyFastScenarioLeavesNoStaleEntry(EmbeddedStack stack) {
        // -Dlethe.scenario=a,b runs only those (any of the catalogue, fast or not)
        String only = System.getProperty("lethe.scenario", "");
        List<String> names = only.isBlank() ? Scenarios.fast() : List.of(only.split(","));
        return names.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            List<ScenarioResult> results = Scenarios.run(stack, List.of(name), settings(), System.out);
            Scenarios.report(results, System.out);
            ScenarioResult r = results.get(0);
            assertTrue(r.passed(), () -> name + ": " + r.stale() + " stale, " + r.lost() + " lost, failures " + r.failures()
                    + "\n  " + String.join("\n  ", r.details()));
        }));
    }

    /** -Dlethe.scenario-settings=steady.writes-per-second=1000,steady.duration=240: as lethe verify --scenario-setting. */
    private static java.util.Map<String, String> settings() {
        java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
        for (String s : System.getProperty("lethe.scenario-settings", "").split(",")) {
            if (!s.isBlank()) {
                int eq = s.indexOf('=');
                if (eq < 1) {
                    throw new IllegalArgumentException("-Dlethe.scenario-settings: expected name=value, was '" + s + "'");
                }
                settings.put(s.substring(0, eq).trim(), s.substring(eq + 1).trim());
            }
        }
        return settings;
    }
}
