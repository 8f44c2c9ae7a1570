package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.cache.ReadTokens;
import io.lethe.config.LetheConfig;
import io.lethe.region.RegionConsumerService;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Read-your-writes by version token. A writer updates items one after another and takes a token
 * after each commit; just before each write every region's cache is filled with the old value (a
 * plain read), and just after it every region reads the item with the token, through the real
 * cache client. The pipeline has not invalidated the old value yet at that moment, so a reader
 * that trusted the cache would return it; with the token the region's applied watermark decides.
 * Readers also re-read earlier writes with their tokens, which the cache serves once the region
 * has applied past them. Every token read must return the write's value or a newer one.
 */
final class ReadYourWritesScenario implements Scenario {
    private static final int ITEMS = 20;
    private static final long RUN_NANOS = 8_000_000_000L;

    private record Write(int id, int seq, io.lethe.cache.ReadToken token, long at) {
    }

    @Override
    public String name() {
        return "read-your-writes";
    }

    @Override
    public String summary() {
        return "reads with a token right after a write, in every region";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, ITEMS);
        LetheConfig config = run.config(Items.namespace(run, ""));
        run.start(config);
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run));
        Map<String, CacheNamespace<String>> caches = new LinkedHashMap<>();
        for (String region : run.regions()) {
            LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false).meterRegistry(run.registry())
                    .readYourWrites(RegionConsumerService.groupId(config, region)).build());
            caches.put(region, cache.namespace("item", Codecs.utf8(), Policy.eventual()));
        }
        List<Write> writes = new ArrayList<>();
        int reads = 0;
        int fromCache = 0;
        int older = 0;
        List<String> violations = new ArrayList<>();
        long t0 = System.nanoTime();
        try (Connection primary = run.connect();
                PreparedStatement update = primary.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
            for (int seq = 1; System.nanoTime() - t0 < RUN_NANOS; seq++) {
                int id = ThreadLocalRandom.current().nextInt(1, ITEMS + 1);
                String key = run.p() + "item:" + id;
                caches.values().forEach(items -> items.get(key, k -> load(run, id)));
                update.setString(1, "w" + seq);
                update.setInt(2, id);
                update.executeUpdate();
                Write write = new Write(id, seq, ReadTokens.take(primary), System.nanoTime());
                writes.add(write);
                List<Write> toRead = new ArrayList<>(List.of(write));
                Write earlier = writes.get(ThreadLocalRandom.current().nextInt(writes.size()));
                if (earlier != write) {
                    toRead.add(earlier);
                }
                for (Write w : toRead) {
                    for (Map.Entry<String, CacheNamespace<String>> region : caches.entrySet()) {
                        double cachedBefore = servedFromCache(run);
                        String value = region.getValue().get(run.p() + "item:" + w.id(), k -> load(run, w.id()), w.token());
                        reads++;
                        fromCache += servedFromCache(run) > cachedBefore ? 1 : 0;
                        int seen = value != null && value.startsWith("w") ? Integer.parseInt(value.substring(1)) : 0;
                        if (seen < w.seq()) {
                            older++;
                            violations.add(
                                    "%s item %d with the token of write w%d read '%s'".formatted(region.getKey(), w.id(), w.seq(), value));
                        }
                    }
                }
            }
        }
        run.done("%d writes with tokens; %d token reads in %d regions (right after each write, and again later)",
                writes.size(), reads, caches.size());
        run.done("%d read a value older than their write; %.0f %% served from the cache (the rest from the primary)",
                older, 100.0 * fromCache / Math.max(1, reads));
        violations.stream().limit(5).forEach(v -> run.expect(false, "read older than its write: " + v));
        run.expect(fromCache > 0, "the cache served token reads once the regions had applied past them");
        run.quiesce();
    }

    private static double servedFromCache(ScenarioRun run) {
        var counter = run.registry().find("lethe.cache.token.reads").tag("result", "cache").counters();
        return counter.stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    private static Loaded<String> load(ScenarioRun run, int id) throws Exception {
        return Loaded.of(run.query("SELECT val FROM items WHERE id = ?", id));
    }
}
