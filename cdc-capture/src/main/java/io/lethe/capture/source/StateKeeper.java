package io.lethe.capture.source;

import java.util.Optional;

/**
 * Where a watch keeps the source state it relies on, so that the next process compares with it:
 * DDL while no watch ran is then found at the next start. Capture keeps it in the source itself
 * ({@link StateStore}); {@code source.mode: debezium-topics}, which has no table of its own in the
 * source, in Kafka.
 */
public interface StateKeeper {
    /**
     * What was kept.
     *
     * @param json      the state saved last, as {@link SourceState#toJson()} wrote it; empty when none is there
     * @param ranBefore whether a watch ran before (so that no state means it was lost, not never saved)
     */
    record Kept(Optional<String> json, boolean ranBefore) {
    }

    /**
     * The state saved last, and whether a watch ran before.
     *
     * @throws RuntimeException when it cannot be read (the watch then publishes no watermark and tries again)
     */
    Kept load();

    /**
     * Saves {@code json} as the state relied on; returns once it is durable.
     *
     * @throws RuntimeException when it cannot be saved (the watch tries again at its next check)
     */
    void save(String json);
}
