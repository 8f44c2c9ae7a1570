package io.lethe.embedded;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** How long each server of an {@link EmbeddedStack} took to start, in start order. Thread-safe. */
final class StartTimes {
    private final Map<String, Duration> times = Collections.synchronizedMap(new LinkedHashMap<>());

    /** Starts a server with {@code start}, recording how long it took under {@code name}. */
    <T> T timed(String name, Supplier<T> start) {
        long t0 = System.nanoTime();
        T server = start.get();
        times.put(name, Duration.ofNanos(System.nanoTime() - t0));
        return server;
    }

    Map<String, Duration> snapshot() {
        synchronized (times) {
            return Map.copyOf(new LinkedHashMap<>(times));
        }
    }

    List<Map.Entry<String, Duration>> inOrder() {
        synchronized (times) {
            return new ArrayList<>(times.entrySet());
        }
    }
}
