package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.bench.InstancesBench;
import io.lethe.bench.InstancesReport;
import io.lethe.cli.Lethe;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.LetheStackExtension;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code lethe bench --instances 2} at a tiny size: two worker processes ({@code lethe run}) share
 * streams and each region's group, and the report has the row of N = 2, its trial, and CPU by
 * component taken from the workers (streams and the region consumers run only there). No timing is
 * asserted: speed is for the benchmark itself.
 */
@ExtendWith(LetheStackExtension.class)
class BenchInstancesIT {
    @Test
    void twoInstancesPerStageReportRowsPerSecondAndCpuPerRowSummedOverTheWorkers(EmbeddedStack stack) throws Exception {
        List<String> regions = stack.regions().subList(0, 1);
        InstancesReport report = new InstancesBench(stack, new InstancesBench.Options(2000, regions, List.of(2), 1, Duration.ZERO,
                Lethe.class.getName(), Files.createTempDirectory("bench-instances-it-"),
                "lethe bench --instances 2 --runs 1 --updates 2000"),
                System.out).run();
        String md = report.markdown();
        assertTrue(md.contains("## Per N: min / median / max over the rounds"), md);
        assertTrue(Pattern.compile("(?m)^\\| 2 \\| 1 \\| \\d+ / \\d+ / \\d+ \\| \\d+ / \\d+ / \\d+ \\|").matcher(md).find(),
                "the row of N = 2 (1 trial) with rows/s and CPU µs per row:\n" + md);
        assertTrue(Pattern.compile("(?m)^\\| 1 \\| 2 \\| ").matcher(md).find(), "the trial of round 1, N = 2:\n" + md);
        assertTrue(md.contains("lethe bench --instances 2 --runs 1 --updates 2000"), "the exact command is in the report");
        InstancesReport.Trial trial = report.trials().get(0);
        assertEquals(2, trial.inWorkers().size(), "both workers measured");
        for (var worker : trial.inWorkers()) {
            // streams and the region consumer run only in the workers: their threads were found in each worker's dump
            assertTrue(worker.get("invalidation-streams (Kafka Streams)") > 0, "streams' CPU in a worker: " + worker);
            assertTrue(worker.get("region consumers (incl. Lettuce I/O)") > 0, "the region consumer's CPU in a worker: " + worker);
        }
        double perRow = trial.microsPerRow(2000);
        assertTrue(perRow > 0 && Double.isFinite(perRow), "CPU µs per row: " + perRow);
        assertTrue(trial.rates().get("end-to-end") > 0, "end-to-end rows/s: " + trial.rates());
    }
}
