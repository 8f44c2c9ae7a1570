package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.config.LetheConfig;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.apply.StalenessProber;
import io.micrometer.core.instrument.Counter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.LinkedHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * No faults: writers update 1,000 rows at about 200 commits/s for a minute while readers in every
 * region keep reading them through cache-client, with the staleness prober sampling 1 in 10
 * invalidations. After the last write the prober's 60 s window passes, and the share of sampled
 * invalidations visible within 1 s, 10 s and 60 s is reported per region. Target: 99.99 % within
 * 1 s, 100 % within 60 s (the scenario fails below 100 % within 60 s). The readers also sample 1
 * hit in 10 for a shadow read (cache-client's inspection, not healed): the scenario reports the
 * nines over all sampled reads, every result, confirmed stale entries per million, the database
 * queries the sampling added, and fails on any confirmed stale entry. At the end the second judge
 * ({@link SecondJudge}) inspects every region.
 *
 * <p>The load is set with {@code lethe verify --scenario steady --scenario-setting name=value}:
 * {@code steady.duration} (seconds of writing), {@code steady.rows} (written, uniformly),
 * {@code steady.read-rows} (the readers read rows 1 to this: a hot set), {@code steady.writes-per-second}
 * and {@code steady.writers} (threads), {@code steady.reads-per-second} and {@code steady.readers}
 * (per region; default one read per region per write), {@code steady.read-delay} (seconds after the
 * writers start before the readers do; default 0), {@code steady.shadow-reads} (1 in N hits),
 * {@code steady.shadow-concurrency} and {@code steady.shadow-per-second} (cache-client's
 * {@code shadowReadLimits}, per region; default 2 and 20, cache-client's own), and
 * {@code steady.prober-sample-every}. docs/benchmarks.md has a run at 1,000 writes/s.
 */
final class SteadyScenario implements Scenario {
    /** The shadow reads' margin and longest grace: cache-client's defaults. */
    private static final Duration SHADOW_MARGIN = Duration.ofSeconds(2);
    private static final Duration SHADOW_MAX_GRACE = Duration.ofSeconds(60);
    /** cache-client names its inspection's threads so: a load on one of them is a shadow read's. */
    private static final String INSPECTION_THREAD = "lethe-cache-inspection-";

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

    /** The load, from the run's settings. */
    private record Load(int seconds, int rows, int readRows, int writesPerSecond, int writers, int readsPerSecond, int readers,
            int readDelay, int shadowReads,
            int shadowConcurrency, int shadowPerSecond, int proberSampleEvery) {
        static Load of(ScenarioRun run) {
            int writes = run.setting("steady.writes-per-second", 200);
            int rows = run.setting("steady.rows", 1000);
            Load l = new Load(run.setting("steady.duration", 60), rows, run.setting("steady.read-rows", rows), writes,
                    run.setting("steady.writers", 1), run.setting("steady.reads-per-second", writes), run.setting("steady.readers", 1),
                    run.setting("steady.read-delay", 0),
                    run.setting("steady.shadow-reads", 10), run.setting("steady.shadow-concurrency", 2),
                    run.setting("steady.shadow-per-second", 20), run.setting("steady.prober-sample-every", 10));
            if (l.seconds < 1 || l.rows < 1 || l.readRows < 1 || l.readRows > l.rows || l.writesPerSecond < 1 || l.writers < 1
                    || l.readsPerSecond < 0 || l.readers < 1 || l.readDelay < 0 || l.readDelay >= l.seconds
                    || l.shadowReads < 0 || l.shadowConcurrency < 1 || l.shadowPerSecond < 1 || l.proberSampleEvery < 0) {
                throw new IllegalArgumentException("steady: every setting must be positive (reads-per-second, shadow-reads and "
                        + "prober-sample-every may be 0, read-rows at most rows): " + l);
            }
            return l;
        }
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Load load = Load.of(run);
        Items.create(run, load.rows());
        run.proberSampleEvery(load.proberSampleEvery());
        LetheConfig config = run.config(Items.namespace(run, ""));
        run.start(config);
        run.truth(key -> key.startsWith(run.p() + "item:") ? Items.truth(run).apply(key) : null);
        run.secondJudge();
        List<LetheCache> caches = new ArrayList<>();
        List<CacheNamespace<String>> namespaces = new ArrayList<>();
        for (String region : run.regions()) {
            // shadow reads not healed (a heal would hide a stale entry from the judges), their grace measured from the
            // region's applied watermark, counted in the run's registry
            LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false)
                    .shadowReadLimits(load.shadowConcurrency(), load.shadowPerSecond(), SHADOW_MARGIN, SHADOW_MAX_GRACE)
                    .readYourWrites(RegionConsumerService.groupId(config, region)).meterRegistry(run.registry()).build());
            caches.add(cache);
            namespaces.add(cache.namespace("item", Codecs.utf8(), Policy.eventual().withShadowReads(load.shadowReads())));
        }
        // the readers' loads: one connection each, and one per shadow read that may run at once
        int connections = Math.min(64, run.regions().size() * (load.readers() + load.shadowConcurrency()));
        java.util.concurrent.BlockingQueue<PreparedStatement> pool = new java.util.concurrent.ArrayBlockingQueue<>(connections);
        for (int i = 0; i < connections; i++) {
            pool.add(run.own(run.connect()).prepareStatement("SELECT val FROM items WHERE id = ?"));
        }
        AtomicLong fillLoads = new AtomicLong();
        AtomicLong shadowLoads = new AtomicLong();
        AtomicLong commits = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(load.seconds());
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < load.writers(); w++) {
            int seed = w;
            threads.add(started("steady-writer-" + w, () -> {
                SplittableRandom random = new SplittableRandom(42 + seed);
                long nanosPerWrite = TimeUnit.SECONDS.toNanos(1) * load.writers() / load.writesPerSecond();
                try (Connection c = run.connect(); PreparedStatement update = c.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
                    for (long n = 0; System.nanoTime() < end; n++) {
                        int id = 1 + random.nextInt(load.rows());
                        update.setString(1, "v" + id + "." + seed + "." + n);
                        update.setInt(2, id);
                        update.executeUpdate();
                        commits.incrementAndGet();
                        pace(start + (n + 1) * nanosPerWrite);
                    }
                } catch (Exception e) {
                    errors.add(e);
                }
            }));
        }
        if (load.readsPerSecond() > 0) {
            for (int r = 0; r < run.regions().size(); r++) {
                CacheNamespace<String> items = namespaces.get(r);
                for (int t = 0; t < load.readers(); t++) {
                    int seed = 1000 * (r + 1) + t;
                    threads.add(started("steady-reader-" + run.regions().get(r) + "-" + t, () -> {
                        SplittableRandom random = new SplittableRandom(seed);
                        long nanosPerRead = TimeUnit.SECONDS.toNanos(1) * load.readers() / load.readsPerSecond();
                        long readFrom = start + TimeUnit.SECONDS.toNanos(load.readDelay());
                        try {
                            pace(readFrom);
                            for (long n = 0; System.nanoTime() < end; n++) {
                                int readId = 1 + random.nextInt(load.readRows());
                                items.get(run.p() + "item:" + readId, k -> {
                                    (Thread.currentThread().getName().startsWith(INSPECTION_THREAD) ? shadowLoads : fillLoads)
                                            .incrementAndGet();
                                    PreparedStatement select = pool.take();
                                    try {
                                        select.setInt(1, readId);
                                        try (var rs = select.executeQuery()) {
                                            return rs.next() ? Loaded.of(rs.getString(1)) : Loaded.notFound();
                                        }
                                    } finally {
                                        pool.add(select);
                                    }
                                });
                                reads.incrementAndGet();
                                pace(readFrom + (n + 1) * nanosPerRead);
                            }
                        } catch (Exception e) {
                            errors.add(e);
                        }
                    }));
                }
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        double took = (System.nanoTime() - start) / 1e9;
        // the shadow reads still in their grace load through the pool: wait for them before it closes
        ScenarioRun.await("the readers' shadow reads", Duration.ofSeconds(180),
                () -> caches.stream().allMatch(cache -> cache.shadowReadsPending() == 0));
        run.expect(errors.isEmpty(), "the writers and readers must not fail: " + errors);
        double readFor = took - load.readDelay();
        run.done("%d commits and %d cache reads over %.0f s (%.0f commits/s, %.0f reads/s over the last %.0f s; asked: %d writes/s by %d "
                + "writers, %d reads/s by %d readers in each of %d regions from %d s on), no faults", commits.get(), reads.get(), took,
                commits.get() / took, reads.get() / readFor, readFor, load.writesPerSecond(), load.writers(), load.readsPerSecond(),
                load.readers(), run.regions().size(), load.readDelay());
        // every sample is checked at 1 s, 10 s and 60 s after its commit: wait until the last 60 s check is in
        if (load.proberSampleEvery() > 0) {
            ScenarioRun.await("the prober's 60 s checks of every sample", Duration.ofSeconds(180),
                    () -> run.regions().stream().allMatch(region -> {
                        Map<String, double[]> w = checks(run, region);
                        return w.get("1s")[1] > 0 && w.get("60s")[1] >= w.get("1s")[1];
                    }));
            for (String region : run.regions()) {
                Map<String, double[]> byWindow = checks(run, region);
                StringBuilder line = new StringBuilder(region + ": sampled invalidations visible within");
                for (Map.Entry<String, double[]> e : byWindow.entrySet()) {
                    double[] t = e.getValue();
                    line.append(
                            String.format(" %s %.2f%% (%d/%d)", e.getKey(), t[1] == 0 ? 0 : 100 * t[0] / t[1], (long) t[0], (long) t[1]));
                }
                run.done(line.toString());
                double[] sixty = byWindow.get("60s");
                run.expect(sixty != null && sixty[1] > 0 && sixty[0] == sixty[1],
                        region + ": every sampled invalidation must be visible within 60 s");
            }
        }
        Map<String, Long> shadow = shadowReads(run);
        long sampled = shadow.entrySet().stream().filter(e -> !e.getKey().equals("dropped")).mapToLong(Map.Entry::getValue).sum();
        long stale = shadow.getOrDefault("stale", 0L);
        run.done(String.format(java.util.Locale.ROOT, "shadow reads (1 in %d hits, at most %d at once and %d/s per region): %d sampled, "
                + "%d confirmed stale, %.0f per million; by result %s", load.shadowReads(), load.shadowConcurrency(),
                load.shadowPerSecond(), sampled, stale, sampled == 0 ? 0 : stale * 1e6 / sampled, shadow));
        run.done(String.format(java.util.Locale.ROOT, "database queries by the readers: %d fills (%.0f/s), %d by shadow reads (%.0f/s, "
                + "%.1f per write)", fillLoads.get(), fillLoads.get() / readFor, shadowLoads.get(), shadowLoads.get() / readFor,
                commits.get() == 0 ? 0 : (double) shadowLoads.get() / commits.get()));
        run.expect(load.shadowReads() == 0 || sampled > 0, "the readers' shadow reads must sample some hits");
        run.expect(stale == 0, "no shadow read may confirm a stale entry on a fault-free run");
        run.quiesce();
    }

    private static Thread started(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.start();
        return t;
    }

    /** Sleeps until {@code dueNanos} ({@link System#nanoTime}); behind, it goes on at once (the rate catches up). */
    private static void pace(long dueNanos) throws InterruptedException {
        long wait = dueNanos - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    /** The readers' shadow reads ({@code lethe.cache.inspector.checks}) by result, over every region. */
    private static Map<String, Long> shadowReads(ScenarioRun run) {
        Map<String, Long> byResult = new java.util.TreeMap<>();
        for (Counter counter : run.registry().find("lethe.cache.inspector.checks").counters()) {
            byResult.merge(counter.getId().getTag("result"), (long) counter.count(), Long::sum);
        }
        return byResult;
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
