package io.lethe.cli.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.region.probe.StalenessProber;
import io.micrometer.core.instrument.Counter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.LinkedHashMap;

/**
 * No faults: a writer updates 1,000 rows at about 200 commits/s for a minute while a reader per
 * region keeps filling them, with the staleness prober sampling 1 in 10 invalidations. After the
 * last write the prober's 60 s window passes, and the share of sampled invalidations visible
 * within 1 s, 10 s and 60 s is reported per region. Target: 99.99 % within 1 s, 100 % within
 * 60 s (the scenario fails below 100 % within 60 s).
 */
final class SteadyScenario implements Scenario {
    private static final Duration WRITING = Duration.ofSeconds(60);
    private static final int ROWS = 1000;

    @Override
    public String name() {
        return "steady";
    }

    @Override
    public String summary() {
        return "no faults, 200 commits/s for 60 s: the prober's share visible within 1 s / 10 s / 60 s";
    }

    @Override
    public boolean fast() {
        return false;
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, ROWS);
        run.proberSampleEvery(10);
        run.start(run.config(Items.namespace(run, "")));
        run.truth(key -> key.startsWith(run.p() + "item:") ? Items.truth(run).apply(key) : null);
        List<LetheCache> caches = new ArrayList<>();
        List<CacheNamespace<String>> readers = new ArrayList<>();
        for (String region : run.regions()) {
            LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false).build());
            caches.add(cache);
            readers.add(cache.namespace("item", Codecs.utf8(), Policy.eventual()));
        }
        SplittableRandom random = new SplittableRandom(42);
        long commits = 0;
        long reads = 0;
        try (Connection c = run.connect(); PreparedStatement update = c.prepareStatement("UPDATE items SET val = ? WHERE id = ?");
             Connection r = run.connect(); PreparedStatement load = r.prepareStatement("SELECT val FROM items WHERE id = ?")) {
            long start = System.nanoTime();
            long end = start + WRITING.toNanos();
            while (System.nanoTime() < end) {
                int id = 1 + random.nextInt(ROWS);
                update.setString(1, "v" + id + "." + commits);
                update.setInt(2, id);
                update.executeUpdate();
                commits++;
                for (CacheNamespace<String> items : readers) {
                    int readId = 1 + random.nextInt(ROWS);
                    items.get(run.p() + "item:" + readId, k -> {
                        load.setInt(1, readId);
                        try (var rs = load.executeQuery()) {
                            return rs.next() ? Loaded.of(rs.getString(1)) : Loaded.notFound();
                        }
                    });
                    reads++;
                }
                long due = start + commits * 5_000_000L;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
        }
        run.done("%d commits and %d cache reads over %d s (about %d commits/s), no faults", commits, reads, WRITING.toSeconds(),
                commits / WRITING.toSeconds());
        // every sample is checked at 1 s, 10 s and 60 s after its commit: wait until the last 60 s check is in
        ScenarioRun.await("the prober's 60 s checks of every sample", Duration.ofSeconds(120), () -> run.regions().stream().allMatch(region -> {
            Map<String, double[]> w = checks(run, region);
            return w.get("1s")[1] > 0 && w.get("60s")[1] >= w.get("1s")[1];
        }));
        for (String region : run.regions()) {
            Map<String, double[]> byWindow = checks(run, region);
            StringBuilder line = new StringBuilder(region + ": sampled invalidations visible within");
            for (Map.Entry<String, double[]> e : byWindow.entrySet()) {
                double[] t = e.getValue();
                line.append(String.format(" %s %.2f%% (%d/%d)", e.getKey(), t[1] == 0 ? 0 : 100 * t[0] / t[1], (long) t[0], (long) t[1]));
            }
            run.done(line.toString());
            double[] sixty = byWindow.get("60s");
            run.expect(sixty != null && sixty[1] > 0 && sixty[0] == sixty[1], region + ": every sampled invalidation must be visible within 60 s");
        }
        run.quiesce();
    }

    /** Coherent and total checks by window (1s, 10s, 60s) of one region's prober. */
    private static Map<String, double[]> checks(ScenarioRun run, String region) {
        Map<String, double[]> byWindow = new LinkedHashMap<>();
        for (String window : List.of("1s", "10s", "60s")) {
            byWindow.put(window, new double[2]);
        }
        for (Counter counter : run.registry().find(StalenessProber.CHECKS).tag("region", region).counters()) {
            double[] t = byWindow.computeIfAbsent(counter.getId().getTag("window"), w -> new double[2]);
            if ("coherent".equals(counter.getId().getTag("result"))) {
                t[0] += counter.count();
            }
            t[1] += counter.count();
        }
        return byWindow;
    }
}
