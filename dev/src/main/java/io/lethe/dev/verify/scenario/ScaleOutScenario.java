package io.lethe.dev.verify.scenario;

import io.lethe.stage.kafka.GroupOffsets;
import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.cache.ReadToken;
import io.lethe.cache.ReadTokens;
import io.lethe.dev.verify.Stages;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import io.lethe.pipeline.Roles;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.redis.AppliedLsn;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.common.TopicPartition;

/**
 * Every stage after capture scaled out, under a burst: two worker processes ({@code lethe run
 * --role streams,region:<each region>}), so two invalidation-streams instances in one application
 * and two consumers in each region's group; capture runs in this process. While a writer updates
 * rows (each value {@code w<seq>}) and readers in every region read through cache-client, partitions
 * are added to the changes topic and to every region topic (3 to 6), one worker is killed with
 * SIGKILL, and a third is started (another rebalance). Every write is read back right away in every
 * region with its read-your-writes token: a value older than the write is a violation (the applied
 * watermark claimed more than was applied). After quiescence: every entry against the database
 * (the first judge, keys parsed by the scenario), {@code lethe inspect} (the second), a fresh token
 * covered by every region's watermark over all 6 partitions, and records on the new partitions of
 * both topics. Reported: the time from the kill until a change committed after it is applied in
 * every region.
 */
final class ScaleOutScenario implements Scenario {
    private static final int ITEMS = 200;
    private static final int PROBE = ITEMS + 1;
    private static final int BEFORE = 3;
    private static final int AFTER = 6;
    /** The writer reads each write again about this many writes later (about 2 s at the rate seen here). */
    private static final int WRITES_PER_SECOND_GUESS = 10;

    private record Write(int id, int seq, ReadToken token) {
    }

    @Override
    public String name() {
        return "scale-out";
    }

    @Override
    public String summary() {
        return "2 streams + 2 consumers per region, partitions added mid-burst, kill -9 of one and a rebalance";
    }

    @Override
    public boolean fast() {
        return false;
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, PROBE);
        String namespaces = Items.namespace(run, "");
        LetheConfig config = run.config(namespaces);
        run.start(config, new Roles(true, false, List.of()));
        run.truth(Items.truth(run));
        run.secondJudge();
        Path dir = Files.createTempDirectory("lethe-scale-out-");
        Path yml = dir.resolve("lethe.yml");
        Files.writeString(yml, run.yaml(namespaces, ""));
        String role = "streams," + String.join(",", run.regions().stream().map(r -> "region:" + r).toList());
        // both start at once: a JVM's start-up takes tens of seconds on a busy machine
        java.util.concurrent.ExecutorService starting = java.util.concurrent.Executors.newFixedThreadPool(2);
        java.util.concurrent.Future<Stages> startingA = starting.submit(() -> worker(yml, dir, "A", role));
        java.util.concurrent.Future<Stages> startingB = starting.submit(() -> worker(yml, dir, "B", role));
        starting.shutdown();
        Stages a = run.own(startingA.get());
        Stages b = run.own(startingB.get());
        List<String> groups = new ArrayList<>(List.of(config.streams().applicationId()));
        run.regions().forEach(r -> groups.add(RegionConsumerService.groupId(config, r)));
        awaitMembers(config, groups, 2);
        run.quiesce();
        run.done("capture in this process; workers A and B each run streams and a consumer of every region (%s): 2 members in each "
                + "of %d groups; topics with %d partitions", String.join(", ", run.regions()), groups.size(), BEFORE);
        // every key of every row cached everywhere, its value computed here from how Items inserted the rows
        for (int id = 1; id <= PROBE; id++) {
            run.fillEverywhere(run.p() + "item:" + id, "1", "v" + id + ".0");
            run.fillEverywhere(run.p() + "slug:s" + id, "0", "v" + id + ".0");
            if (id % 2 == 1) {
                int grp = (id + 1) / 2;
                run.fillEverywhere(run.p() + "grp:" + grp + ":items", "0",
                        id == PROBE ? "v" + id + ".0" : "v" + id + ".0,v" + (id + 1) + ".0");
            }
        }

        Map<String, CacheNamespace<String>> caches = new LinkedHashMap<>();
        for (String region : run.regions()) {
            LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false).meterRegistry(run.registry())
                    .readYourWrites(RegionConsumerService.groupId(config, region)).build());
            caches.put(region, cache.namespace("item", Codecs.utf8(), Policy.eventual()));
        }
        AtomicBoolean writing = new AtomicBoolean(true);
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicLongArray counts = new java.util.concurrent.atomic.AtomicLongArray(3); // writes, token reads, from the cache
        Thread writer = new Thread(() -> {
            SplittableRandom random = new SplittableRandom(31);
            java.util.ArrayDeque<Write> recent = new java.util.ArrayDeque<>();
            try (Connection primary = run.connect();
                    Connection loads = run.connect();
                    PreparedStatement update = primary.prepareStatement("UPDATE items SET val = ? WHERE id = ?");
                    PreparedStatement select = loads.prepareStatement("SELECT val FROM items WHERE id = ?")) {
                for (int seq = 1; writing.get(); seq++) {
                    int id = 1 + random.nextInt(ITEMS);
                    update.setString(1, "w" + seq);
                    update.setInt(2, id);
                    update.executeUpdate();
                    Write write = new Write(id, seq, ReadTokens.take(primary));
                    counts.incrementAndGet(0);
                    recent.addLast(write);
                    // this write right away, and one of about 2 s ago, whose token the watermark may cover by now
                    List<Write> toRead = new ArrayList<>(List.of(write));
                    while (recent.size() > 2 * WRITES_PER_SECOND_GUESS) {
                        toRead.add(recent.removeFirst());
                    }
                    for (Write w : toRead) {
                        for (Map.Entry<String, CacheNamespace<String>> region : caches.entrySet()) {
                            double cachedBefore = servedFromCache(run);
                            String value = region.getValue().get(run.p() + "item:" + w.id(), k -> load(select, w.id()), w.token());
                            counts.incrementAndGet(1);
                            counts.addAndGet(2, servedFromCache(run) > cachedBefore ? 1 : 0);
                            int seen = value != null && value.startsWith("w") ? Integer.parseInt(value.substring(1)) : 0;
                            if (seen < w.seq()) {
                                violations.add("%s item %d with the token of write w%d read '%s'".formatted(region.getKey(), w.id(),
                                        w.seq(), value));
                            }
                        }
                    }
                }
            } catch (Exception e) {
                errors.add(e);
            }
        }, "scale-out-writer");
        List<Thread> readers = new ArrayList<>();
        for (Map.Entry<String, CacheNamespace<String>> region : caches.entrySet()) {
            readers.add(new Thread(() -> {
                SplittableRandom random = new SplittableRandom(region.getKey().hashCode());
                try (Connection loads = run.connect();
                        PreparedStatement select = loads.prepareStatement("SELECT val FROM items WHERE id = ?")) {
                    while (writing.get()) {
                        int id = 1 + random.nextInt(ITEMS);
                        region.getValue().get(run.p() + "item:" + id, k -> load(select, id));
                        Thread.sleep(5);
                    }
                } catch (Exception e) {
                    errors.add(e);
                }
            }, "scale-out-reader-" + region.getKey()));
        }
        writer.start();
        readers.forEach(Thread::start);
        try {
            await("the writer's first writes", errors, () -> counts.get(0) >= 100);
            Set<String> topics = new LinkedHashSet<>(List.of(config.topics().changes()));
            run.regions().forEach(r -> topics.add(config.topics().invalidations(r)));
            try (Admin admin = admin(config, run.id() + "-expand")) {
                Map<String, NewPartitions> expand = new LinkedHashMap<>();
                topics.forEach(t -> expand.put(t, NewPartitions.increaseTo(AFTER)));
                admin.createPartitions(expand).all().get();
            }
            long expandedAt = counts.get(0);
            // capture publishes a heartbeat's watermark to every partition it knows: once the new ones hold
            // records, its producer routes changes by 6 partitions
            ScenarioRun.await("capture to write to the new partitions of the changes topic", Duration.ofSeconds(60),
                    () -> newPartitionsHold(config, config.topics().changes()));
            run.done("a writer updates %d rows, each write read back with its token in every region; readers fill in every region; "
                    + "after %d writes: %s from %d to %d partitions; capture writes to the new ones %d writes later",
                    ITEMS, expandedAt, String.join(", ", topics), BEFORE, AFTER, counts.get(0) - expandedAt);
            await("writes routed by 6 partitions", errors, () -> counts.get(0) >= expandedAt + 80);
            b.kill(role);
            long killedAt = System.nanoTime();
            run.fillEverywhere(run.p() + "item:" + PROBE, "1", "before-probe");
            run.sql("UPDATE items SET val = 'probe' WHERE id = " + PROBE);
            ScenarioRun.await("a change committed after the kill to reach every region", Duration.ofSeconds(90),
                    () -> run.regions().stream().allMatch(r -> run.redis(r).exists(run.p() + "item:" + PROBE) == 0));
            double applied = (System.nanoTime() - killedAt) / 1e9;
            long writesAtKill = counts.get(0);
            run.own(worker(yml, dir, "C", role));
            awaitMembers(config, groups, 2);
            run.done("worker B killed with SIGKILL after %d writes; a change committed after the kill applied in every region %.1f s "
                    + "after it; worker C started (a rebalance of every group back to 2 members) %d writes later", writesAtKill, applied,
                    counts.get(0) - writesAtKill);
            long rebalancedAt = counts.get(0);
            await("writes after the rebalance", errors, () -> counts.get(0) >= rebalancedAt + 80);
        } finally {
            writing.set(false);
            writer.join(30_000);
            for (Thread t : readers) {
                t.join(30_000);
            }
        }
        run.done("%d writes; %d token reads, %.0f %% served from the cache; %d read a value older than their write", counts.get(0),
                counts.get(1),
                100.0 * counts.get(2) / Math.max(1, counts.get(1)), violations.size());
        violations.stream().limit(5).forEach(v -> run.expect(false, "read older than its write: " + v));
        run.expect(errors.isEmpty(), "the writer and readers must not fail: " + errors);
        run.expect(counts.get(2) > 0, "the cache served token reads once the regions had applied past them");
        run.quiesce();

        // a token taken now is covered by every region's watermark, counted over the 6 partitions
        ReadToken last;
        try (Connection primary = run.connect()) {
            run.sql("UPDATE items SET val = 'last' WHERE id = " + PROBE);
            last = ReadTokens.take(primary);
        }
        for (String region : run.regions()) {
            String key = AppliedLsn.key(RegionConsumerService.groupId(config, region));
            ScenarioRun.await(region + "'s applied watermark over " + AFTER + " partitions to cover a fresh token", Duration.ofSeconds(60),
                    () -> {
                        Map<String, String> fields = run.redis(region).hgetall(key);
                        OptionalLong lsn = AppliedLsn.of(fields);
                        return Integer.toString(AFTER).equals(fields.get(AppliedLsn.PARTITIONS)) && lsn.isPresent()
                                && lsn.getAsLong() >= last.lsn();
                    });
        }
        for (String topic : new LinkedHashSet<>(List.of(config.topics().changes(), config.topics().invalidations(run.regions().get(0))))) {
            run.expect(newPartitionsHold(config, topic), "records on the new partitions of " + topic);
        }
        // lethe lag over the 6 partitions: caught up, with an end-to-end figure (heartbeats every second)
        List<String> lags = new ArrayList<>();
        ScenarioRun.await("lethe lag to show every region caught up", Duration.ofSeconds(60), () -> {
            try {
                lags.clear();
                for (io.lethe.cli.lag.LagReport.Row row : new io.lethe.cli.lag.LagReport(config, java.time.Clock.systemUTC())
                        .compute(List.of())) {
                    if (!run.regions().contains(row.region())) {
                        continue;
                    }
                    lags.add("%s %.1f s".formatted(row.region(), row.endToEndSeconds()));
                    if (!(row.endToEndSeconds() < 10)) {
                        return false;
                    }
                }
                return true;
            } catch (Exception e) {
                return false;
            }
        });
        run.done("after quiescence: every region's applied watermark counts %d partitions and covers a fresh token; the new "
                + "partitions of the changes topic and of the region topic hold records; lethe lag end-to-end %s", AFTER,
                String.join(", ", lags));
    }

    /** A worker: {@code lethe run --role <role>} in a JVM of its own, its logs in {@code dir/<name>}. */
    private static Stages worker(Path yml, Path dir, String name, String role) throws Exception {
        Stages stages = new Stages(yml, Files.createDirectories(dir.resolve(name)), List.of(role));
        stages.start(role);
        return stages;
    }

    private static Admin admin(LetheConfig config, String name) {
        return Admin.create(KafkaClients.common(config.kafka(), KafkaRole.CLI, name));
    }

    /** Waits until each group has {@code members} members, each with partitions assigned. */
    private static void awaitMembers(LetheConfig config, List<String> groups, int members) throws Exception {
        try (Admin admin = admin(config, "scale-out-members")) {
            ScenarioRun.await(members + " members with partitions in each of " + groups, Duration.ofSeconds(120), () -> {
                try {
                    return admin.describeConsumerGroups(groups).all().get().values().stream()
                            .allMatch(g -> g.members().size() == members
                                    && g.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty()));
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    /** True when every partition of {@code topic} from {@link #BEFORE} on holds a record. */
    private static boolean newPartitionsHold(LetheConfig config, String topic) {
        try (Admin admin = admin(config, "scale-out-ends")) {
            List<TopicPartition> added = new ArrayList<>();
            for (int p = BEFORE; p < AFTER; p++) {
                added.add(new TopicPartition(topic, p));
            }
            return GroupOffsets.latest(admin, added, Duration.ofSeconds(10)).values().stream().allMatch(end -> end > 0);
        } catch (Exception e) {
            return false;
        }
    }

    private static double servedFromCache(ScenarioRun run) {
        var counter = run.registry().find("lethe.cache.token.reads").tag("result", "cache").counters();
        return counter.stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    private static Loaded<String> load(PreparedStatement select, int id) throws Exception {
        select.setInt(1, id);
        try (var rs = select.executeQuery()) {
            return rs.next() ? Loaded.of(rs.getString(1)) : Loaded.notFound();
        }
    }

    /** {@link ScenarioRun#await}, failing at once when the writer or a reader failed. */
    private static void await(String what, List<Throwable> errors, java.util.function.BooleanSupplier condition)
            throws InterruptedException {
        ScenarioRun.await(what, Duration.ofSeconds(90), () -> {
            if (!errors.isEmpty()) {
                throw new IllegalStateException("the writer or a reader failed: " + errors.get(0), errors.get(0));
            }
            return condition.getAsBoolean();
        });
    }
}
