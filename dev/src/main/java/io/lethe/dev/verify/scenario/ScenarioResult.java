package io.lethe.dev.verify.scenario;

import java.util.List;

/**
 * How one scenario ended.
 *
 * @param name     the scenario
 * @param done     what was done, in order
 * @param checked  cache entries compared with the database after quiescence
 * @param stale    entries whose value differs from the committed row (the promise broken)
 * @param lost     entries a scenario filled before a change that still hold that old value:
 *                 the change's invalidation never arrived (each is also stale)
 * @param failures what went wrong beyond staleness (an expectation of the scenario, an error)
 * @param details  one line per stale entry or failure, for the report
 */
public record ScenarioResult(String name, List<String> done, int checked, int stale, int lost, List<String> failures,
        List<String> details) {
    public ScenarioResult {
        done = List.copyOf(done);
        failures = List.copyOf(failures);
        details = List.copyOf(details);
    }

    public boolean passed() {
        return stale == 0 && lost == 0 && failures.isEmpty();
    }
}
