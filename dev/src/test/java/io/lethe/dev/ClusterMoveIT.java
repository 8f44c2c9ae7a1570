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
 * {@code lethe verify --scenario cluster-move}: a region that read the primary Kafka cluster (its
 * Redis holds its topic marker and checkpoint) is started on a cluster of its own that MirrorMaker 2
 * mirrors its topic to, under the same topic name, after rows it caches changed and the primary's
 * log was cut; then moved back. No entry of a row changed while it moved may survive.
 */
@ExtendWith(LetheStackExtension.class)
class ClusterMoveIT {
    @Test
    void aRegionMovedToAnotherClusterUnderTheSameTopicNameKeepsNothingStale(EmbeddedStack stack) {
        List<ScenarioResult> results = Scenarios.run(stack, List.of("cluster-move"), Map.of("regions", "2"), System.out);
        Scenarios.report(results, System.out);
        ScenarioResult r = results.get(0);
        assertTrue(r.passed(),
                () -> r.stale() + " stale, " + r.lost() + " lost, failures " + r.failures() + "\n  " + String.join("\n  ", r.details()));
        assertTrue(r.checked() > 0, "the judge compared entries: " + r.checked());
    }
}
