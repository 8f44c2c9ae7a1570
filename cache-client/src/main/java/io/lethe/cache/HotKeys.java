package io.lethe.cache;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which keys of a namespace this process reads most, now: a count-min sketch of the reads (four
 * rows of counters, each key counted in one counter per row, its estimate the least of the four)
 * that halves every counter after each window of reads, so a key that stopped being read cools
 * down, and a bounded list of candidates whose estimate reached the hot threshold.
 *
 * <p>Counting is lossy on purpose: increments are plain writes to an {@code int[]} from many
 * threads, so a few may be lost under contention (never more than were made). An estimate can be
 * too high (another key shares all four counters), never too low by more than the lost increments.
 * A key is hot while its estimate is at least {@code threshold} reads in a window of {@code window}
 * reads of the namespace; at most {@code capacity} keys are hot at once (the highest estimates).
 */
final class HotKeys {
    private static final int ROWS = 4;
    private final int[][] counters;
    private final int mask;
    private final int window;
    private final int threshold;
    private final int capacity;
    private final AtomicInteger reads = new AtomicInteger();
    /** Keys whose estimate reached the threshold, with that estimate; pruned at each halving. */
    private final Map<String, Integer> hot = new ConcurrentHashMap<>();

    /**
     * @param window    reads of the namespace after which every count is halved
     * @param threshold estimated reads within a window from which a key is hot
     * @param capacity  at most this many keys are hot at once
     */
    HotKeys(int window, int threshold, int capacity) {
        if (window < 16 || threshold < 2 || threshold > window || capacity < 1) {
            throw new IllegalArgumentException("hot keys need window >= 16, 2 <= threshold <= window and capacity >= 1; were "
                    + window + ", " + threshold + " and " + capacity);
        }
        int width = Integer.highestOneBit(Math.max(64, window / 4) - 1) << 1;
        this.counters = new int[ROWS][width];
        this.mask = width - 1;
        this.window = window;
        this.threshold = threshold;
        this.capacity = capacity;
    }

    /** Counts one read of {@code key}; returns whether the key is hot now. */
    boolean record(String key) {
        int h = spread(key.hashCode());
        int estimate = Integer.MAX_VALUE;
        for (int row = 0; row < ROWS; row++) {
            int[] counts = counters[row];
            int i = index(h, row);
            int c = counts[i] + 1;
            counts[i] = c;
            estimate = Math.min(estimate, c);
        }
        if (reads.incrementAndGet() % window == 0) {
            age();
        }
        if (estimate < threshold) {
            return hot.containsKey(key);
        }
        hot.put(key, estimate);
        if (hot.size() > capacity) {
            evictColdest();
        }
        return hot.containsKey(key);
    }

    boolean isHot(String key) {
        return hot.containsKey(key);
    }

    /** The hot keys, hottest first, at most {@code n}. */
    List<HotKey> top(int n) {
        List<HotKey> out = new ArrayList<>(hot.size());
        hot.forEach((k, v) -> out.add(new HotKey(k, v)));
        out.sort(Comparator.comparingInt(HotKey::reads).reversed().thenComparing(HotKey::key));
        return out.size() > n ? List.copyOf(out.subList(0, n)) : out;
    }

    int size() {
        return hot.size();
    }

    /** Halves every counter and every candidate's estimate; a candidate below the threshold then is no longer hot. */
    private synchronized void age() {
        for (int[] counts : counters) {
            for (int i = 0; i < counts.length; i++) {
                counts[i] >>>= 1;
            }
        }
        hot.replaceAll((k, v) -> v >>> 1);
        hot.values().removeIf(v -> v < threshold);
    }

    private synchronized void evictColdest() {
        while (hot.size() > capacity) {
            hot.entrySet().stream().min(Map.Entry.comparingByValue()).ifPresent(e -> hot.remove(e.getKey(), e.getValue()));
        }
    }

    private int index(int h, int row) {
        int x = h * (0x9E3779B9 + 2 * row * 0x61C88647 + 1);
        return (x ^ (x >>> 15)) & mask;
    }

    private static int spread(int h) {
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        return h;
    }
}
