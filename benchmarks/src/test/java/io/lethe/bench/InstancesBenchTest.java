package io.lethe.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The instances bench's pure parts: partitions for the Ns, the counters read from a worker's Prometheus page. */
class InstancesBenchTest {
    @Test
    void partitionsGiveEveryInstanceOfEveryNAsManyAndAtLeastThree() {
        assertEquals(6, InstancesBench.partitions(List.of(1, 2, 3)));
        assertEquals(3, InstancesBench.partitions(List.of(1)));
        assertEquals(4, InstancesBench.partitions(List.of(2)));
        assertEquals(4, InstancesBench.partitions(List.of(1, 4)));
        assertEquals(12, InstancesBench.partitions(List.of(3, 4)));
    }

    @Test
    void countersSumStreamsInputAndEachRegionsAppliedOverTheirTags() {
        String page = """
                # HELP lethe_streams_events_total
                # TYPE lethe_streams_events_total counter
                lethe_streams_events_total{direction="in",table="public.bench_items"} 1500.0
                lethe_streams_events_total{direction="in",table="public.other"} 500.0
                lethe_streams_events_total{direction="out",table="public.bench_items"} 3000.0
                lethe_region_applied_total{region="us-east",result="absent"} 1200.0
                lethe_region_applied_total{region="us-east",result="deleted"} 3.0
                lethe_region_applied_total{region="eu-west",result="absent"} 1e3
                lethe_region_applied_total_created{region="eu-west",result="absent"} 1.7e9
                lethe_region_lag_records{region="us-east"} 7.0
                lethe_region_batch_size_count{region="us-east"} 10.0
                lethe_region_batch_size_sum{region="us-east"} 1203.0
                lethe_region_batch_size_count{region="eu-west"} 5.0
                lethe_region_batch_size_sum{region="eu-west"} 1000.0
                lethe_region_batch_size_max{region="eu-west"} 400.0
                """;
        Map<String, Double> counters = InstancesBench.counters(page);
        assertEquals(Map.of(InstancesBench.STREAMED, 2000.0, InstancesBench.APPLIED + "us-east", 1203.0,
                InstancesBench.APPLIED + "eu-west", 1000.0, InstancesBench.BATCHES, 15.0, InstancesBench.BATCHED, 2203.0), counters);
    }
}
