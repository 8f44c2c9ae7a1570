package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A celebrity key on a region's 3-master Redis Cluster: every reader reads the same row's key
 * through cache-client while a writer changes the row {@value #WRITES_PER_SECOND} times a second,
 * first without hot-key protection, then with {@link Policy#withHotKeyCopies} ({@value #COPIES_MILLIS} ms).
 * It reports, per phase, the reads, the share served from the hot key's copy, and the commands
 * per second the key's shard (the master owning its slot) processed; and it judges every read:
 * the value served may be older than the row's newest committed value by at most the pipeline's
 * allowance, plus the copies' bound with the protection on. With the protection the shard must
 * see at most half the commands per second it saw without, and at least 90 % of the reads must
 * come from the copy.
 */
final class HotKeyScenario implements Scenario {
    private static final int READERS = 8;
    private static final int WRITES_PER_SECOND = 5;
    private static final long COPIES_MILLIS = 500;
    /** What the pipeline may add to a value's age (commit to invalidation applied), on a busy machine. */
    private static final Duration PIPELINE_ALLOWANCE = Duration.ofSeconds(3);

    @Override
    public String name() {
        return "hot-key";
    }

    @Override
    public String summary() {
        return "one key read by every reader on a Redis Cluster: the load on its shard with and without hot-key copies";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Duration phase = Duration.ofSeconds(run.setting("hot-key.phase-seconds", 8));
        Items.create(run, 10);
        String region = run.regions().get(0);
        run.clusterRegion(region);
        run.start(run.config(Items.namespace(run, "")));
        run.secondJudge();
        run.truth(Items.truth(run));
        run.quiesce();
        String key = run.p() + "item:1";
        String shard = shardOf(run, key);
        Map<Integer, Long> committed = new ConcurrentHashMap<>();
        committed.put(0, System.currentTimeMillis());
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> write(run, committed, writing), "hot-key-writer");
        writer.start();
        try {
            Phase without = phase(run, key, shard, committed, Policy.eventual().withShadowReads(0), phase);
            Phase with = phase(run, key, shard, committed,
                    Policy.eventual().withShadowReads(0).withHotKeyCopies(Duration.ofMillis(COPIES_MILLIS)), phase);
            for (Phase p : List.of(without, with)) {
                run.done("%s: %,d reads by %d readers in %.1f s (%,.0f/s), %.1f %% from the hot key's copy; its shard processed "
                        + "%,.0f commands/s; the oldest value served was %d ms behind the row's newest commit",
                        p.name, p.reads, READERS, p.seconds, p.reads / p.seconds, 100.0 * p.copyHits / Math.max(1, p.reads),
                        p.shardCommands / p.seconds, p.maxAgeMillis);
            }
            run.expect(without.maxAgeMillis <= PIPELINE_ALLOWANCE.toMillis(),
                    "without copies a value " + without.maxAgeMillis + " ms old was served (allowance " + PIPELINE_ALLOWANCE + ")");
            run.expect(with.maxAgeMillis <= COPIES_MILLIS + PIPELINE_ALLOWANCE.toMillis(),
                    "with copies a value " + with.maxAgeMillis + " ms old was served (bound " + COPIES_MILLIS + " ms + allowance)");
            run.expect(with.copyHits >= 0.9 * with.reads, "only " + with.copyHits + " of " + with.reads + " reads came from the copy");
            run.expect(with.shardCommands / with.seconds <= 0.5 * without.shardCommands / without.seconds,
                    "the shard's commands/s did not halve with copies: " + (long) (without.shardCommands / without.seconds)
                            + " → " + (long) (with.shardCommands / with.seconds));
        } finally {
            writing.set(false);
            writer.join();
        }
        run.quiesce();
    }

    private record Phase(String name, long reads, long copyHits, double seconds, long shardCommands, long maxAgeMillis) {
    }

    /** Changes row 1 {@value #WRITES_PER_SECOND} times a second: val v1.n, recording when version n committed. */
    private static void write(ScenarioRun run, Map<Integer, Long> committed, AtomicBoolean writing) {
        try (Connection c = run.connect(); PreparedStatement update = c.prepareStatement("UPDATE items SET val = ? WHERE id = 1")) {
            for (int n = 1; writing.get(); n++) {
                update.setString(1, "v1." + n);
                update.executeUpdate(); // autocommit
                committed.put(n, System.currentTimeMillis());
                Thread.sleep(1000 / WRITES_PER_SECOND);
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException("the hot key's writer failed", e);
        }
    }

    private static Phase phase(ScenarioRun run, String key, String shard, Map<Integer, Long> committed, Policy policy, Duration length)
            throws Exception {
        String name = policy.hotKeyCopies().isZero() ? "without hot-key copies" : "with hot-key copies (" + COPIES_MILLIS + " ms)";
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AtomicLong reads = new AtomicLong();
        AtomicLong maxAge = new AtomicLong();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (LetheCache cache = LetheCache.builder(run.stack().redisClusterUri()).cluster(true).meterRegistry(registry).build()) {
            CacheNamespace<String> items = cache.namespace("item", Codecs.utf8(), policy);
            long before = commandsProcessed(shard);
            long t0 = System.nanoTime();
            long end = t0 + length.toNanos();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < READERS; r++) {
                Thread t = new Thread(() -> {
                    try (Connection c = run.connect(); PreparedStatement load = c.prepareStatement("SELECT val FROM items WHERE id = 1")) {
                        while (System.nanoTime() < end) {
                            String value = items.get(key, k -> {
                                try (ResultSet rs = load.executeQuery()) {
                                    return rs.next() ? Loaded.of(rs.getString(1)) : Loaded.notFound();
                                }
                            });
                            long now = System.currentTimeMillis();
                            reads.incrementAndGet();
                            Long next = committed.get(Integer.parseInt(value.substring("v1.".length())) + 1);
                            if (next != null && now > next) {
                                maxAge.accumulateAndGet(now - next, Math::max);
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "hot-key-reader-" + r);
                readers.add(t);
                t.start();
            }
            for (Thread t : readers) {
                t.join();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long shardCommands = commandsProcessed(shard) - before;
            if (!failures.isEmpty()) {
                throw new IllegalStateException("a reader failed " + name, failures.get(0));
            }
            long copyHits = (long) registry.find("lethe.cache.hot.hits").counters().stream().mapToDouble(c -> c.count()).sum();
            return new Phase(name, reads.get(), copyHits, seconds, shardCommands, maxAge.get());
        }
    }

    /** The URI of the cluster master that owns {@code key}'s slot. */
    private static String shardOf(ScenarioRun run, String key) {
        int slot = io.lettuce.core.cluster.SlotHash.getSlot(key);
        for (String node : run.stack().redisClusterNodeUris()) {
            boolean[] owns = {false};
            ScenarioRun.onServer(node, c -> owns[0] = c.sync().clusterMyId().equals(ownerId(c.sync().clusterSlots(), slot)));
            if (owns[0]) {
                return node;
            }
        }
        throw new IllegalStateException("no cluster master owns slot " + slot + " of " + key);
    }

    /** The node id CLUSTER SLOTS gives as the master of {@code slot}. */
    private static String ownerId(List<Object> slots, int slot) {
        for (Object range : slots) {
            List<?> r = (List<?>) range;
            if (((Number) r.get(0)).intValue() <= slot && slot <= ((Number) r.get(1)).intValue()) {
                return String.valueOf(((List<?>) r.get(2)).get(2));
            }
        }
        return "";
    }

    /** INFO stats' total_commands_processed of one server. */
    private static long commandsProcessed(String uri) {
        long[] n = {0};
        ScenarioRun.onServer(uri, c -> {
            for (String line : c.sync().info("stats").split("\r?\n")) {
                if (line.startsWith("total_commands_processed:")) {
                    n[0] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                }
            }
        });
        return n[0];
    }
}
