package io.lethe.stage.time;

import java.time.Instant;

/** Event times are microseconds since the epoch (ChangeEvent, InvalidationEvent): the one conversion from an instant. */
public final class Micros {
    private Micros() {
    }

    /** {@code instant} in microseconds since the epoch (sub-microsecond digits dropped). */
    public static long of(Instant instant) {
        return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
    }
}
