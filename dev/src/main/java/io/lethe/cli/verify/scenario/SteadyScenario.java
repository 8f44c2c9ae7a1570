package io.lethe.cli.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.config.LetheConfig;
import io.lethe.region.RegionConsumerService;
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
 * 60 s (the scenario fails below 100 % within 60 s). The readers also sample 1 hit in 10 for a
 * shadow read (cache-client's inspection, not healed): the scenario reports the nines over all
 * sampled reads, confirmed stale entries per million, and fails on any. At the end the second
 * judge ({@link SecondJudge}) inspects every region.
 */
final class SteadyScenario implements Scenario {
    private static final Duration WRITING = Duration.ofSeconds(60);
    private static final int ROWS = 1000;
    /** Readers sample 1 hit in this many for a shadow read. */
    private static final int SHADOW_READS = 10;

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
        LetheConfig config = run.config(Items.namespace(run, ""));
        run.start(config);
        run.truth(key -> key.startsWith(run.p() + "item:") ? Items.truth(run).apply(key) : null);
        run.secondJudge();
        List<LetheCache> caches = new ArrayList<>();
        List<CacheNamespace<String>> readers = new ArrayList<>();
        for (String region : run.regions()) {
            // shadow reads of 1 hit in 10, not healed (a heal would hide a stale entry from the judges), their grace
            // measured from the region's applied watermark, counted in the run's registry
            LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false)
                    .readYourWrites(RegionConsumerService.groupId(config, region)).meterRegistry(run.registry()).build());
            caches.add(cache);
            readers.add(cache.namespace("item", Codecs.utf8(), Policy.eventual().withShadowReads(SHADOW_READS)));
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
                        synchronized (load) { // shadow reads call the loader from the inspection's threads
                            load.setInt(1, readId);
                            try (var rs = load.executeQuery()) {
                                return rs.next() ? Loaded.of(rs.getString(1)) : Loaded.notFound();
                            }
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
            // the shadow reads still in their grace load through this connection: wait for them before it closes
            ScenarioRun.await("the readers' shadow reads", Duration.ofSeconds(120),
                    () -> caches.stream().allMatch(cache -> cache.shadowReadsPending() == 0));
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
        long[] shadow = shadowReads(run);
        run.done(String.format(java.util.Locale.ROOT, "shadow reads: %d sampled, %d confirmed stale, %.0f per million (%d undecided, %d dropped)",
                shadow[0], shadow[1], shadow[0] == 0 ? 0 : shadow[1] * 1e6 / shadow[0], shadow[2], shadow[3]));
        run.expect(shadow[0] > 0, "the readers' shadow reads must sample some hits");
        run.expect(shadow[1] == 0, "no shadow read may confirm a stale entry on a fault-free run");
        run.quiesce();
    }

    /**
     * The readers' shadow reads ({@code lethe.cache.inspector.checks}): sampled (checked against the
     * database, dropped ones apart), confirmed stale, undecided, dropped.
     */
    private static long[] shadowReads(ScenarioRun run) {
        long[] t = new long[4];
        for (Counter counter : run.registry().find("lethe.cache.inspector.checks").counters()) {
            String result = counter.getId().getTag("result");
            long n = (long) counter.count();
            if ("dropped".equals(result)) {
                t[3] += n;
                continue;
            }
            t[0] += n;
            if ("stale".equals(result)) {
                t[1] += n;
            } else if ("undecided".equals(result)) {
                t[2] += n;
            }
        }
        return t;
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
