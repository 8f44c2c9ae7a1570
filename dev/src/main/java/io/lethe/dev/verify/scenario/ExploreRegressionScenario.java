package io.lethe.dev.verify.scenario;

import io.lethe.dev.verify.explore.Explorer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * A reproduction that {@code lethe verify --explore} found and shrank, kept as a regression: the
 * program ({@code explore/<name>.json} on the classpath) runs again, in its own scope, and must
 * leave no stale entry. {@code explore/regressions.txt} lists them, one {@code name | summary} a line.
 */
final class ExploreRegressionScenario implements Scenario {
    private static final String INDEX = "/explore/regressions.txt";

    private final String name;
    private final String summary;

    private ExploreRegressionScenario(String name, String summary) {
        this.name = name;
        this.summary = summary;
    }

    /** Every regression the index lists. */
    static List<Scenario> all() {
        List<Scenario> out = new ArrayList<>();
        try (InputStream in = ExploreRegressionScenario.class.getResourceAsStream(INDEX)) {
            if (in == null) {
                return out;
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int bar = line.indexOf('|');
                if (bar < 0) {
                    throw new IllegalStateException(INDEX + ": '" + line + "' is not 'name | summary'");
                }
                out.add(new ExploreRegressionScenario(line.substring(0, bar).trim(), line.substring(bar + 1).trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + INDEX, e);
        }
        return out;
    }

    @Override
    public String name() {
        return "explore-" + name;
    }

    @Override
    public String summary() {
        return summary + " (found by --explore)";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Explorer.Summary s = Explorer.regression(run.stack(), run.regions(), name, Files.createTempDirectory("lethe-explore-"), System.out);
        run.done("the reproduction %s: %d statements, %d faults, %d reads; %d entries checked, %d stale, %d stale reads", name,
                s.statements(),
                s.faults(), s.reads(), s.checked(), s.stale(), s.staleReads());
        run.expect(s.passed(), "the reproduction " + name + " left stale entries or reads: " + s.classes());
    }
}
