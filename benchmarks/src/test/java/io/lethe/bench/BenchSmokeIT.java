package io.lethe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** lethe bench at a tiny size: the report is complete. No timing is asserted: speed is for the benchmark itself. */
@ExtendWith(LetheStackExtension.class)
class BenchSmokeIT {

    @Test
    void aTinyRunWritesACompleteReport(LetheStack stack) throws Exception {
        List<String> regions = stack.regions().subList(0, 2);
        Report report = new Bench(stack, new Bench.Options(3000, regions, List.of("50%", "300"), Duration.ofSeconds(3),
                Duration.ZERO, "at_least_once",
                "lethe bench --updates 3000 --regions 2"), System.out).run();
        String md = report.markdown();
        for (String section : List.of("## Raw limits", "## Pipeline", "## Ratios", "## Commit -> applied latency", "## Resources")) {
            assertTrue(md.contains(section), section + " missing:\n" + md);
        }
        for (String raw : List.of("pgoutput decode", "Debezium Embedded alone", "Kafka produce", "Kafka consume",
                "pipelined EVALSHA invalidate.lua, " + regions.get(0), "pipelined EVALSHA invalidate.lua, " + regions.get(1))) {
            assertTrue(md.contains("| " + raw), raw + " missing:\n" + md);
        }
        for (String stage : List.of("| commit |", "| capture |", "| streams |", "| apply " + regions.get(0) + " |", "| end-to-end |")) {
            assertTrue(md.contains(stage), stage + " missing:\n" + md);
        }
        for (String component : List.of(CpuBreakdown.CAPTURE, CpuBreakdown.STREAMS, CpuBreakdown.REGIONS, CpuBreakdown.BROKER,
                CpuBreakdown.POSTGRES, CpuBreakdown.REDIS, CpuBreakdown.GC, CpuBreakdown.JIT)) {
            assertTrue(md.contains("| " + component + " |"), "the burst's CPU profile names " + component + ":\n" + md);
        }
        assertTrue(md.contains("Apply alone"), "the applier's own rate is reported:\n" + md);
        assertTrue(md.contains("per second, before | per second, after"), "raw limits are measured before and after the burst:\n" + md);
        assertTrue(md.contains("Debezium Embedded alone used"), "Debezium alone's CPU per row is reported:\n" + md);
        assertTrue(md.contains("Warm-up:"), "the warm-up is reported:\n" + md);
        assertEquals(4 + 2 * regions.size(), report.ratios().size());
        report.ratios().forEach((k, v) -> assertFalse(v.isNaN() || v <= 0, k + " = " + v + " is not a ratio of two measured figures"));
        long latencyRows = md.lines().filter(l -> l.matches("\\| (50%|300) \\| \\d+ \\| .*")).count();
        assertEquals(2L * regions.size(), latencyRows, md);
        long stageRows = md.lines().filter(l -> l.matches("\\| (50%|300) \\| " + regions.get(0) + " \\| .* -> .*")).count();
        assertEquals(2L * 3, stageRows, "each phase's latency is split into capture, streams and the region:\n" + md);
        assertTrue(md.contains("lethe bench --updates 3000 --regions 2"), "the exact command is in the report");
    }
}
