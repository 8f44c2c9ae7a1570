package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.cache.ReadToken;
import io.lethe.cache.ReadTokens;
import io.lethe.config.LetheConfig;
import io.lethe.dev.verify.mirror.EmbeddedMirrorMaker;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.redis.RedisLayout;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Regions on a Kafka cluster of their own, mirrored from the primary by Kafka's MirrorMaker 2
 * (issue 31, docs/multi-region.md). The first region reads the primary cluster; every other one
 * reads a second cluster that MirrorMaker 2 mirrors the region topics to
 * ({@code regions.<r>.kafka.bootstrap-servers}), with signed records and watermarks. In one
 * sitting it measures commit→applied (a cached key gone from Redis after its row's commit) in the
 * direct and the mirrored regions, then: a burst of updates over cached keys; read-your-writes
 * tokens in the mirrored regions, right after each write; the mirror stopped (the mirrored
 * regions wait, token readers load from the primary, nothing is skipped) and started again; a
 * mirrored region's Redis restarted from an old snapshot (restore replay, by time, on the
 * region's cluster). The judge, which computes every key's value from the database itself, must
 * find nothing stale in any region.
 */
final class MirroredRegionsScenario implements Scenario {
    private static final int ITEMS = 200;
    private static final Duration APPLIED_TIMEOUT = Duration.ofSeconds(30);

    @Override
    public String name() {
        return "mirrored-regions";
    }

    @Override
    public String summary() {
        return "regions reading a cluster MirrorMaker 2 mirrors from the primary: latency, burst, tokens, mirror outage, restore";
    }

    @Override
    public boolean fast() {
        return false; // a second broker and MirrorMaker 2: MirroredRegionsIT runs it
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        if (run.regions().size() < 2) {
            throw new IllegalArgumentException(
                    "mirrored-regions needs at least 2 regions (one on the primary cluster, the others mirrored), "
                            + "was given " + run.regions());
        }
        String direct = run.regions().get(0);
        List<String> mirrored = run.regions().subList(1, run.regions().size());
        String second = run.stack().secondKafkaBootstrapServers();
        mirrored.forEach(r -> run.regionSettings(r, "kafka: { bootstrap-servers: \"" + second + "\" }"));
        run.streamsSetting("watermark-key: mirrored-regions-" + run.id() + "-signing-key");
        Items.create(run, ITEMS);
        LetheConfig config = run.config(Items.namespace(run, ""));
        // MirrorMaker 2 with what `lethe topics --print mirror-maker` prints for this configuration
        long m0 = System.nanoTime();
        EmbeddedMirrorMaker mirror = run.own(EmbeddedMirrorMaker.start(config));
        double mirrorStart = (System.nanoTime() - m0) / 1e9;
        String topics = mirror.properties().entrySet().stream().filter(e -> e.getKey().endsWith(".topics")).map(Map.Entry::getValue)
                .collect(java.util.stream.Collectors.joining(", "));
        run.done("%s reads the primary cluster; %s read a second cluster %s, mirrored by MirrorMaker 2 (topics %s, started in %.1f s)",
                direct, mirrored, second, topics, mirrorStart);
        run.start(config);
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run));
        long t0 = System.nanoTime();
        run.quiesce();
        run.done("the first change reached every region %.1f s after the pipeline started", (System.nanoTime() - t0) / 1e9);

        Rows rows = run.own(new Rows(run.connect()));
        latency(run, rows, direct, mirrored, run.setting("mirrored-regions.samples", 100));
        burst(run, run.setting("mirrored-regions.burst", 1000));
        readYourWrites(run, rows, config, mirrored);
        mirrorOutage(run, rows, config, mirror, direct, mirrored);
        restore(run, config, mirrored.get(0));
        run.quiesce();
        lag(run, config, mirrored);
    }

    /**
     * {@code lethe lag} after quiescence: a mirrored region's offsets and topic are read on its own
     * cluster (on the primary its group has no offsets: the whole topic would count as behind, and
     * its end-to-end age would be unknown). Heartbeats keep arriving, so a region is 0 behind only
     * between two of them: asked again until it is, at most 30 s.
     */
    private static void lag(ScenarioRun run, LetheConfig config, List<String> mirrored) throws Exception {
        io.lethe.cli.lag.LagReport report = new io.lethe.cli.lag.LagReport(config, java.time.Clock.systemUTC());
        Map<String, io.lethe.cli.lag.LagReport.Row> last = new LinkedHashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        do {
            for (io.lethe.cli.lag.LagReport.Row row : report.compute(List.of())) {
                if (mirrored.contains(row.region()) && (!last.containsKey(row.region()) || last.get(row.region()).lagRecords() > 0)) {
                    last.put(row.region(), row);
                }
            }
        } while (last.values().stream().anyMatch(r -> r.lagRecords() > 0 || Double.isNaN(r.endToEndSeconds()))
                && System.nanoTime() < deadline);
        for (io.lethe.cli.lag.LagReport.Row row : last.values()) {
            run.expect(row.lagRecords() == 0, "lethe lag: " + row.region() + " has applied its whole topic on its own cluster, "
                    + "lag " + row.lagRecords() + " records");
            run.expect(!Double.isNaN(row.endToEndSeconds()), "lethe lag: " + row.region() + "'s end-to-end age is known "
                    + "(from its group's commits on its own cluster)");
            run.done("lethe lag, %s (mirrored): %d records behind, end to end %.1f s", row.region(), row.lagRecords(),
                    row.endToEndSeconds());
        }
        run.expect(last.keySet().containsAll(mirrored), "lethe lag reports every mirrored region: " + last.keySet());
    }

    /** Commit→applied, the direct and the mirrored regions in the same sitting, one committed change at a time. */
    private static void latency(ScenarioRun run, Rows rows, String direct, List<String> mirrored, int samples) throws Exception {
        Map<String, long[]> micros = new LinkedHashMap<>();
        run.regions().forEach(r -> micros.put(r, new long[samples]));
        try (Connection primary = run.connect();
                PreparedStatement update = primary.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
            for (int i = 0; i < samples; i++) {
                int id = 1 + i % ITEMS;
                String key = run.p() + "item:" + id;
                String value = "lat" + i;
                run.fillEverywhere(key, "1", rows.val(id));
                update.setString(1, value);
                update.setInt(2, id);
                update.executeUpdate();
                long committed = System.nanoTime();
                List<String> waiting = new ArrayList<>(run.regions());
                while (!waiting.isEmpty()) {
                    for (var it = waiting.iterator(); it.hasNext();) {
                        String region = it.next();
                        if (run.redis(region).exists(key) == 0) {
                            micros.get(region)[i] = (System.nanoTime() - committed) / 1_000;
                            it.remove();
                        }
                    }
                    if (System.nanoTime() - committed > APPLIED_TIMEOUT.toNanos()) {
                        throw new IllegalStateException(
                                "the invalidation of " + key + " did not reach " + waiting + " in " + APPLIED_TIMEOUT);
                    }
                    Thread.sleep(1); // not a spin: the pipeline shares this machine's cores
                }
            }
        }
        long[] directMicros = micros.get(direct);
        long[] mirroredMicros = mirrored.stream().flatMapToLong(r -> Arrays.stream(micros.get(r))).toArray();
        double directP50 = percentile(directMicros, 50);
        double directP99 = percentile(directMicros, 99);
        double mirroredP50 = percentile(mirroredMicros, 50);
        double mirroredP99 = percentile(mirroredMicros, 99);
        run.done("commit→applied, %d changes one at a time: direct (%s) p50 %.1f ms, p99 %.1f ms; mirrored (%s) p50 %.1f ms, p99 %.1f ms",
                samples, direct, directP50, directP99, String.join(", ", mirrored), mirroredP50, mirroredP99);
        run.done("latency added by the mirror: p50 %+.1f ms, p99 %+.1f ms", mirroredP50 - directP50, mirroredP99 - directP99);
    }

    /** The p-th percentile (nearest rank) of {@code micros}, in ms. */
    static double percentile(long[] micros, int p) {
        long[] sorted = micros.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1000.0;
    }

    /** Every item's keys cached everywhere, then {@code updates} single-row commits as fast as they go. */
    private static void burst(ScenarioRun run, int updates) throws Exception {
        int[] ids = new int[ITEMS];
        Arrays.setAll(ids, i -> i + 1);
        Items.fillCurrent(run, "1", ids);
        long t0 = System.nanoTime();
        try (Connection primary = run.connect();
                PreparedStatement update = primary.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
            for (int i = 0; i < updates; i++) {
                update.setString(1, "b" + i);
                update.setInt(2, 1 + (i * 7) % ITEMS);
                update.executeUpdate();
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long q0 = System.nanoTime();
        run.quiesce();
        run.done(
                "burst: %d keys cached in every region, then %d single-row commits in %.1f s (%.0f/s); every region had applied them %.1f s later",
                ITEMS * 3, updates, seconds, updates / seconds, (System.nanoTime() - q0) / 1e9);
    }

    /** Reads with a token right after each write, in the mirrored regions, through the real cache client. */
    private static void readYourWrites(ScenarioRun run, Rows rows, LetheConfig config, List<String> mirrored) throws Exception {
        Map<String, CacheNamespace<String>> caches = caches(run, config, mirrored);
        int writes = run.setting("mirrored-regions.token-writes", 20);
        int older = 0;
        int reads = 0;
        List<String> violations = new ArrayList<>();
        double cachedBefore = servedFromCache(run);
        List<Object[]> done = new ArrayList<>();
        try (Connection primary = run.connect();
                PreparedStatement update = primary.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
            for (int seq = 1; seq <= writes; seq++) {
                int id = 1 + (seq * 13) % ITEMS;
                String key = run.p() + "item:" + id;
                caches.values().forEach(items -> items.get(key, k -> rows.load(id)));
                update.setString(1, "t" + seq);
                update.setInt(2, id);
                update.executeUpdate();
                ReadToken token = ReadTokens.take(primary);
                done.add(new Object[] {id, seq, token});
                for (Object[] w : List.of(done.get(done.size() - 1), done.get(Math.max(0, done.size() - 5)))) {
                    for (Map.Entry<String, CacheNamespace<String>> region : caches.entrySet()) {
                        int wid = (int) w[0];
                        int wseq = (int) w[1];
                        String value = region.getValue().get(run.p() + "item:" + wid, k -> rows.load(wid), (ReadToken) w[2]);
                        reads++;
                        int seen = value != null && value.startsWith("t") ? Integer.parseInt(value.substring(1)) : 0;
                        if (seen < wseq) {
                            older++;
                            violations.add("%s item %d with the token of write t%d read '%s'".formatted(region.getKey(), wid, wseq, value));
                        }
                    }
                }
            }
        }
        // a token the mirrored regions have applied past is served from their cache: the watermark passes it with the
        // first heartbeat after it (heartbeat-interval 1 s), so read with it until one serves it, at most 30 s
        run.quiesce();
        Object[] last = done.get(done.size() - 1);
        String lastKey = run.p() + "item:" + last[0];
        double beforeLast = servedFromCache(run);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (servedFromCache(run) == beforeLast && System.nanoTime() < deadline) {
            for (CacheNamespace<String> items : caches.values()) {
                items.get(lastKey, k -> rows.load((int) last[0]));
                items.get(lastKey, k -> rows.load((int) last[0]), (ReadToken) last[2]);
                reads++;
            }
            Thread.sleep(100);
        }
        double fromCache = servedFromCache(run) - cachedBefore;
        run.done(
                "read-your-writes in %s: %d writes, %d token reads; %d older than their write; %.0f served from the mirrored regions' cache",
                String.join(", ", mirrored), writes, reads, older, fromCache);
        violations.stream().limit(5).forEach(v -> run.expect(false, "read older than its write: " + v));
        run.expect(fromCache > 0, "a mirrored region's cache serves a token it has applied past");
    }

    /**
     * The mirror stopped: the direct region applies a change, the mirrored ones keep the old value
     * (they wait, they skip nothing) and a token reader there loads from the primary; started again,
     * the mirrored regions apply it.
     */
    private static void mirrorOutage(ScenarioRun run, Rows rows, LetheConfig config, EmbeddedMirrorMaker mirror, String direct,
            List<String> mirrored)
            throws Exception {
        Map<String, CacheNamespace<String>> caches = caches(run, config, mirrored);
        mirror.stop();
        String key = run.p() + "item:1";
        String old = rows.val(1);
        run.fillEverywhere(key, "1", old);
        ReadToken token;
        try (Connection primary = run.connect();
                PreparedStatement update = primary.prepareStatement("UPDATE items SET val = 'outage' WHERE id = 1")) {
            update.executeUpdate();
            token = ReadTokens.take(primary);
        }
        long directMs = run.millisUntilGone(direct, key, APPLIED_TIMEOUT);
        run.expect(directMs >= 0, direct + " applies the change while the mirror is down");
        // the direct region applied it, so streams wrote it: the mirrored regions can only be without it
        boolean waited = mirrored.stream().allMatch(r -> old.equals(run.redis(r).hget(key, RedisLayout.ENTRY_DATA)));
        run.expect(waited, "the mirrored regions keep the entry while the mirror is down (nothing arrives, nothing is skipped)");
        boolean tokenFresh = caches.values().stream().allMatch(items -> "outage".equals(items.get(key, k -> rows.load(1), token)));
        run.expect(tokenFresh, "a token reader in a mirrored region reads the write (from the primary) while the mirror is down");
        run.done("mirror stopped: %s applied the change in %d ms; %s %s; their token readers read %s", direct, directMs, mirrored,
                waited ? "kept the old entry (waiting)" : "did NOT keep the old entry",
                tokenFresh ? "the write (from the primary)" : "an older value");
        long t0 = System.nanoTime();
        mirror.restart();
        for (String region : mirrored) {
            long ms = run.millisUntilGone(region, key, Duration.ofSeconds(60));
            run.expect(ms >= 0, region + " applies the change once the mirror is back");
        }
        run.done("mirror started again: the mirrored regions applied the change %.1f s later", (System.nanoTime() - t0) / 1e9);
    }

    /** A mirrored region's Redis restarts from a snapshot older than what it applied: restore replay on its own cluster. */
    private static void restore(ScenarioRun run, LetheConfig config, String region) throws Exception {
        String checkpoint = RedisLayout.checkpointKey(RegionConsumerService.groupId(config, region));
        run.quiesce();
        ScenarioRun.await("the region's checkpoint in Redis", Duration.ofSeconds(30), () -> run.redis(region).exists(checkpoint) == 1);
        Items.fillCurrent(run, "1", 2);
        run.redis(region).save();
        run.sql("UPDATE items SET val = 'restored' WHERE id = 2");
        run.quiesce();
        run.shutdownRedis(region);
        run.stack().restartRedis(region);
        String key = run.p() + "item:2";
        boolean back = !"restored".equals(run.redis(region).hget(key, RedisLayout.ENTRY_DATA)) && run.redis(region).exists(key) == 1;
        long gone = run.millisUntilGone(region, key, Duration.ofSeconds(60));
        run.expect(gone >= 0, region + " deletes the entry its old snapshot brought back (restore replay on its own cluster)");
        run.done(
                "%s restarted from an older snapshot (old value %s): the entry was deleted %d ms after the restart (restore replay on its cluster)",
                region, back ? "back" : "not back", gone);
    }

    private static Map<String, CacheNamespace<String>> caches(ScenarioRun run, LetheConfig config, List<String> regions) {
        Map<String, CacheNamespace<String>> caches = new LinkedHashMap<>();
        for (String region : regions) {
            LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false).meterRegistry(run.registry())
                    .readYourWrites(RegionConsumerService.groupId(config, region)).build());
            caches.put(region, cache.namespace("item", Codecs.utf8(), Policy.eventual()));
        }
        return caches;
    }

    private static double servedFromCache(ScenarioRun run) {
        var counter = run.registry().find("lethe.cache.token.reads").tag("result", "cache").counters();
        return counter.stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    /** The readers' loads, on one connection (a connection per load is slow on a busy machine). */
    private static final class Rows implements AutoCloseable {
        private final Connection connection;
        private final PreparedStatement select;

        Rows(Connection connection) throws java.sql.SQLException {
            this.connection = connection;
            this.select = connection.prepareStatement("SELECT val FROM items WHERE id = ?");
        }

        synchronized String val(int id) throws java.sql.SQLException {
            select.setInt(1, id);
            try (java.sql.ResultSet rs = select.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }

        Loaded<String> load(int id) throws java.sql.SQLException {
            return Loaded.of(val(id));
        }

        @Override
        public void close() throws java.sql.SQLException {
            connection.close();
        }
    }
}
