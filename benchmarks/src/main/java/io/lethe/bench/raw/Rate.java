package io.lethe.bench.raw;

/**
 * A measured throughput.
 *
 * @param items   what was counted
 * @param seconds how long it took
 */
public record Rate(long items, double seconds) {
    public double perSecond() {
        return seconds <= 0 ? 0 : items / seconds;
    }

    static Rate since(long items, long startNanos) {
        return new Rate(items, (System.nanoTime() - startNanos) / 1e9);
    }
}
