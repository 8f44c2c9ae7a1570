package io.lethe.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Watches counters during a burst and notes when each reached its target: the moment a stage
 * had handled the whole burst.
 */
final class Stopwatch {
    private final Map<String, LongSupplier> counters = new LinkedHashMap<>();
    private final Map<String, Long> targets = new LinkedHashMap<>();
    private final Map<String, Long> doneAt = new LinkedHashMap<>();

    void watch(String stage, LongSupplier counter, long target) {
        counters.put(stage, counter);
        targets.put(stage, target);
    }

    /**
     * Polls every 10 ms (cheap next to the pipeline, fine enough for multi-second bursts) until
     * every counter reached its target; returns nanoTime when each did.
     */
    Map<String, Long> await(long deadlineNanos) throws InterruptedException {
        while (doneAt.size() < counters.size()) {
            long now = System.nanoTime();
            for (Map.Entry<String, LongSupplier> e : counters.entrySet()) {
                if (!doneAt.containsKey(e.getKey()) && e.getValue().getAsLong() >= targets.get(e.getKey())) {
                    doneAt.put(e.getKey(), now);
                }
            }
            if (now > deadlineNanos) {
                StringBuilder missing = new StringBuilder();
                counters.forEach((k, v) -> {
                    if (!doneAt.containsKey(k)) {
                        missing.append(k).append(' ').append(v.getAsLong()).append('/').append(targets.get(k)).append("; ");
                    }
                });
                throw new IllegalStateException("the burst did not finish in time: " + missing);
            }
            Thread.sleep(10);
        }
        return doneAt;
    }
}
