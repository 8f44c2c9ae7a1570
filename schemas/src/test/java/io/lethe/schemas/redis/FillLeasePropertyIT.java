package io.lethe.schemas.redis;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Versions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Seeded randomized check of the contract: a row is committed at versions 1..k; each commit's
 * invalidation is delivered at least once, at any time after the commit, duplicated and
 * reordered at will; readers miss (reading the fence counter), load the row at some later
 * moment and fill later still, with the version they loaded or with an unknown version. Whatever
 * the interleaving, once every invalidation has been delivered no entry older than version k
 * survives. The same in {@code mode: upsert}, where each commit is delivered as an upsert of its
 * row, and where the key may start behind the 2^64 - 1 fence of a namespace-wide invalidation.
 */
@ExtendWith(LetheStackExtension.class)
class FillLeasePropertyIT {
    private static final int SEEDS = 1000;

    private record Reader(String n0, boolean knowsVersion, int loaded, long missedAt) {
    }

    /** How a run is driven: the fence TTL its deliveries pass, and whether steps take real time. */
    private record Mode(boolean upsert, long fenceTtl, boolean paced) {
    }

    @Test
    void noInterleavingLeavesAStaleEntry(LetheStack stack, TestScope scope) throws InterruptedException {
        try (ScriptRunner redis = ScriptRunner.standalone(stack.redisUri("eu-west"))) {
            for (int seed = 1; seed <= SEEDS; seed++) {
                run(redis, scope.key("row:" + seed), new SplittableRandom(seed), seed, new Mode(false, 600_000, false));
            }
        }
    }

    @Test
    void noInterleavingOfUpsertsLeavesAStaleEntryEvenBehindAMaximumFence(LetheStack stack, TestScope scope) throws InterruptedException {
        try (ScriptRunner redis = ScriptRunner.standalone(stack.redisUri("eu-west"))) {
            for (int seed = 1; seed <= SEEDS; seed++) {
                run(redis, scope.key("upserted:" + seed), new SplittableRandom(seed), seed, new Mode(true, 600_000, false));
            }
        }
    }

    /**
     * A fence TTL of 80 ms and steps that take real time, so that fences expire and a fence's
     * version falls back once it stood its TTL (h, m): readers whose load took half the fence TTL or more
     * do not fill (as the cache client), every other interleaving must still end without a stale entry.
     */
    @Test
    void noInterleavingLeavesAStaleEntryWhileFencesExpireAndTheirVersionsFallBack(LetheStack stack, TestScope scope)
            throws InterruptedException {
        try (ScriptRunner redis = ScriptRunner.standalone(stack.redisUri("eu-west"))) {
            for (int seed = 1; seed <= 150; seed++) {
                SplittableRandom random = new SplittableRandom(seed);
                run(redis, scope.key("timed:" + seed), random, seed, new Mode(random.nextBoolean(), 80, true));
            }
        }
    }

    /** One commit's change delivered: invalidate.lua, or in mode upsert upsert.lua with the row at that version. */
    private static String deliver(ScriptRunner redis, String key, int v, SplittableRandom random, Mode mode) {
        if (mode.upsert()) {
            return " up" + v + "=" + redis.upsert(key, Integer.toString(v), "row@" + v, 0, mode.fenceTtl(), 1 + random.nextLong(1L << 40));
        }
        redis.invalidate(key, Integer.toString(v), mode.fenceTtl(), 1 + random.nextLong(1L << 40));
        return " inv" + v;
    }

    /** A reader's fill, unless its load outlived the fence TTL (the cache client does not fill then). */
    private static String fill(ScriptRunner redis, String key, Reader r, Mode mode) {
        if (mode.paced() && (System.nanoTime() - r.missedAt()) / 1_000_000L >= mode.fenceTtl() / 2) {
            return " slow(" + r.loaded() + ")";
        }
        String version = r.knowsVersion() ? Integer.toString(r.loaded()) : "0";
        return " fill(" + version + "," + r.loaded() + ")=" + redis.fill(key, version, r.n0(), "row@" + r.loaded());
    }

    private void run(ScriptRunner redis, String key, SplittableRandom random, int seed, Mode mode) throws InterruptedException {
        boolean upsert = mode.upsert();
        int commits = 1 + random.nextInt(6);
        int committed = 0;
        boolean[] delivered = new boolean[commits + 1];
        List<Reader> missed = new ArrayList<>();
        List<Reader> loaded = new ArrayList<>();
        StringBuilder trace = new StringBuilder();
        if ((upsert || mode.paced()) && random.nextBoolean()) {
            // a namespace-wide invalidation of a column: namespace (TRUNCATE, a reset) fences the key at 2^64 - 1,
            // as does a row's change whose version could not be read (not forced)
            if (upsert || random.nextBoolean()) {
                redis.invalidateWhatever(key, Versions.MAX, mode.fenceTtl(), 1 + random.nextLong(1L << 40));
                trace.append(" wide");
            } else {
                redis.invalidate(key, Versions.MAX, mode.fenceTtl(), 1 + random.nextLong(1L << 40));
                trace.append(" max");
            }
        }
        int steps = 10 + random.nextInt(40);
        for (int step = 0; step < steps; step++) {
            if (mode.paced()) {
                Thread.sleep(random.nextInt(6));
            }
            int dice = random.nextInt(20);
            switch (dice < 3 ? 0 : dice < 9 ? 1 : dice < 13 ? 2 : dice < 16 ? 3 : 4) {
                case 0 -> {
                    if (committed < commits) {
                        committed++;
                        trace.append(" commit").append(committed);
                    }
                }
                case 1 -> {
                    if (committed > 0) {
                        int v = 1 + random.nextInt(committed);
                        delivered[v] = true;
                        trace.append(deliver(redis, key, v, random, mode));
                    }
                }
                case 2 -> {
                    missed.add(new Reader(redis.counter(key), random.nextBoolean(), -1, System.nanoTime()));
                    trace.append(" miss");
                }
                case 3 -> {
                    if (!missed.isEmpty()) {
                        Reader r = missed.remove(random.nextInt(missed.size()));
                        loaded.add(new Reader(r.n0(), r.knowsVersion(), committed, r.missedAt()));
                        trace.append(" load").append(committed);
                    }
                }
                default -> {
                    if (!loaded.isEmpty()) {
                        Reader r = loaded.remove(random.nextInt(loaded.size()));
                        trace.append(fill(redis, key, r, mode));
                    }
                }
            }
        }
        // readers that loaded finish late, when a stale fill is most likely to survive
        while (!loaded.isEmpty()) {
            Reader r = loaded.remove(random.nextInt(loaded.size()));
            trace.append(fill(redis, key, r, mode));
        }
        // at-least-once: every commit's invalidation arrives eventually, in any order
        List<Integer> pending = new ArrayList<>();
        for (int v = 1; v <= committed; v++) {
            if (!delivered[v]) {
                pending.add(v);
            }
        }
        while (!pending.isEmpty()) {
            int v = pending.remove(random.nextInt(pending.size()));
            trace.append(deliver(redis, key, v, random, mode));
        }
        Map<String, String> entry = redis.entry(key);
        String data = entry.get("d");
        int latest = committed;
        assertTrue(data == null || data.equals("row@" + latest),
                () -> "seed " + seed + ": entry " + entry + " survives although row is at version " + latest + ";" + trace);
    }
}
