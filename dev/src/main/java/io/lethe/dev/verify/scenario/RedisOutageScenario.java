package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.LoadRejectedException;
import io.lethe.cache.Policy;
import io.lethe.config.LetheConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.search.Search;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * A region's Redis killed (SIGKILL by PID: connections refused) for a while under an open-loop
 * read load through the real cache client, then started again, empty, on the same port; a
 * writer commits changes all along, so the pipeline keeps invalidating. The client has the
 * circuit breaker, single-flight, admission control ({@value #MAX_CONCURRENT} loads at a time,
 * {@value #MAX_PER_SECOND} per second, {@value #MAX_WAIT_MILLIS} ms wait) and serves near-cache
 * copies for at most {@value #STALE_SECONDS} s of the outage. It asserts: the database loads per
 * second never exceed the bound and the concurrent loads never exceed theirs; the read p99
 * during the outage stays under the command timeout; no read before Redis's return returned a
 * value older than the staleness bound plus the pipeline's allowance (after it, older than the
 * region consumer's retry backoff plus that allowance); and reads are served by the cache again
 * within {@value #RECOVERY_SECONDS} s of Redis's return. It prints the figures. The kill makes
 * the connection fail at once (Lettuce rejects commands while disconnected); a Redis that hangs
 * instead is cache-client's RedisOutageIT, where only the breaker ends the waits.
 */
final class RedisOutageScenario implements Scenario {
    private static final int ITEMS = 200;
    private static final int WRITES_PER_SECOND = 10;
    private static final int MAX_CONCURRENT = 8;
    private static final int MAX_PER_SECOND = 100;
    private static final int MAX_WAIT_MILLIS = 20;
    private static final int STALE_SECONDS = 5;
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(1);
    /** What the pipeline may add to a value's age when Redis answers (commit to invalidation applied). */
    private static final Duration PIPELINE_ALLOWANCE = Duration.ofSeconds(3);
    /** The region consumer's longest wait between retries (apply.retry-backoff-max, default): its catch-up after Redis is back. */
    private static final Duration RETRY_BACKOFF_MAX = io.lethe.config.Defaults.RETRY_BACKOFF_MAX;
    /**
     * The read p99 during the outage must stay under the command timeout: a read that waited for
     * Redis would take at least that. (On a quiet machine it is tens of ms; a CI host shared with
     * other builds has shown 500 ms.)
     */
    private static final Duration P99_BOUND = COMMAND_TIMEOUT;
    private static final int RECOVERY_SECONDS = 10;
    private static final Duration WARM = Duration.ofSeconds(5);
    private static final Duration AFTER = Duration.ofSeconds(10);

    private final String name;
    private final int readsPerSecond;
    private final Duration outage;
    private final boolean fast;

    private RedisOutageScenario(String name, int readsPerSecond, Duration outage, boolean fast) {
        this.name = name;
        this.readsPerSecond = readsPerSecond;
        this.outage = outage;
        this.fast = fast;
    }

    /** The run: 2,000 reads/s, Redis down for 30 s. */
    static RedisOutageScenario full() {
        return new RedisOutageScenario("redis-outage", 2000, Duration.ofSeconds(30), false);
    }

    /** The same, short enough for CI: 500 reads/s, Redis down for 10 s. */
    static RedisOutageScenario ci() {
        return new RedisOutageScenario("redis-outage-ci", 500, Duration.ofSeconds(10), true);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String summary() {
        return "a region's Redis killed for %d s under %,d reads/s: loads bounded, p99 by the breaker, staleness bounded"
                .formatted(outage.toSeconds(), readsPerSecond);
    }

    @Override
    public boolean fast() {
        return fast;
    }

    /** One read: when it was issued (ns since the start), how long it took, the item and the write sequence it returned (-1: rejected, -2: failed). */
    private record Read(long at, long nanos, int id, int seq) {
    }

    /** One committed write: item, sequence (its val is v{id}.{seq}), commit time (ns since the start). */
    private record Write(int id, int seq, long at) {
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, ITEMS);
        LetheConfig config = run.config(Items.namespace(run, ""));
        run.start(config);
        run.truth(key -> key.startsWith(run.p() + "item:") ? Items.truth(run).apply(key) : null);
        String region = run.regions().get(0);
        long t0 = System.nanoTime();

        // the database side: a connection per loader thread, loads counted per second and at once
        List<Connection> connections = new CopyOnWriteArrayList<>();
        ThreadLocal<Connection> connection = ThreadLocal.withInitial(() -> {
            try {
                Connection c = run.connect();
                connections.add(c);
                return c;
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException("connecting the loader to the run's database", e);
            }
        });
        run.own(() -> connections.forEach(c -> {
            try {
                c.close();
            } catch (java.sql.SQLException e) {
                // closing anyway
            }
        }));
        int seconds = (int) (WARM.plus(outage).plus(AFTER).toSeconds() + 200);
        AtomicLongArray loadsPerSecond = new AtomicLongArray(seconds);
        AtomicInteger loading = new AtomicInteger();
        AtomicInteger maxLoading = new AtomicInteger();
        ExecutorService loaderThreads = Executors.newFixedThreadPool(16, r -> {
            Thread t = new Thread(r, "redis-outage-loader");
            t.setDaemon(true);
            return t;
        });
        run.own(loaderThreads::shutdownNow);

        LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(region)).meterRegistry(run.registry())
                .loaderExecutor(loaderThreads).timeout(COMMAND_TIMEOUT).nearCache(10_000, Duration.ofMinutes(10))
                .circuitBreaker(50, Duration.ofSeconds(5), 20, Duration.ofSeconds(1)).shadowReadsHeal(false).build());
        Policy policy = Policy.eventual().withShadowReads(0).withStaleOnOutage(Duration.ofSeconds(STALE_SECONDS))
                .withLoadLimits(MAX_CONCURRENT, MAX_PER_SECOND, Duration.ofMillis(MAX_WAIT_MILLIS));
        CacheNamespace<String> items = cache.namespace("item", Codecs.utf8(), policy);
        io.lethe.cache.Loader<String> loader = key -> {
            int now = loading.incrementAndGet();
            maxLoading.accumulateAndGet(now, Math::max);
            loadsPerSecond.incrementAndGet((int) Math.min(seconds - 1, (System.nanoTime() - t0) / 1_000_000_000L));
            try (PreparedStatement s = connection.get().prepareStatement("SELECT val FROM items WHERE id = ?")) {
                s.setInt(1, Integer.parseInt(key.substring(key.lastIndexOf(':') + 1)));
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? Loaded.of(rs.getString(1)) : Loaded.notFound();
                }
            } finally {
                loading.decrementAndGet();
            }
        };

        // the writer: WRITES_PER_SECOND commits, each recorded once committed
        Map<Integer, List<Write>> writes = new ConcurrentHashMap<>();
        for (int id = 1; id <= ITEMS; id++) {
            writes.put(id, new CopyOnWriteArrayList<>(List.of(new Write(id, 0, 0))));
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<String> writerErrors = new CopyOnWriteArrayList<>();
        Thread writer = new Thread(() -> {
            try {
                write(run, writes, stop, t0);
            } catch (RuntimeException e) {
                writerErrors.add(e + (e.getCause() == null ? "" : ": " + e.getCause()));
            }
        }, "redis-outage-writer");
        writer.setDaemon(true);
        writer.start();

        // the readers: open loop, reads issued on schedule whatever the latency
        ConcurrentLinkedQueue<Read> reads = new ConcurrentLinkedQueue<>();
        AtomicInteger pending = new AtomicInteger();
        Thread reader = new Thread(() -> read(items, loader, run.p(), reads, pending, stop, t0), "redis-outage-reader");
        reader.setDaemon(true);
        reader.start();

        // warm: until the near cache holds nine items in ten (each read from Redis since its last
        // change), then the steady load for WARM more
        long warmStart = System.nanoTime();
        ScenarioRun.await("the near cache warm (" + ITEMS * 9 / 10 + " of " + ITEMS + " items)", Duration.ofSeconds(120),
                () -> cache.nearCacheSize() >= ITEMS * 9 / 10);
        double warmOpens = breakerOpens(run);
        run.done("near cache warm after %.1f s; the breaker opened %.0f times meanwhile",
                (System.nanoTime() - warmStart) / 1e9, warmOpens);
        Thread.sleep(WARM.toMillis());
        long nearBefore = cache.nearCacheSize();
        double nearHitsBefore = count(run, "lethe.cache.near.hits", "hit");
        long killAt = System.nanoTime() - t0;
        run.stack().killRedis(region);
        long startAt;
        long nearAfter;
        try {
            Thread.sleep(outage.toMillis());
            nearAfter = cache.nearCacheSize();
        } finally {
            run.stack().startRedis(region, List.of());
            startAt = System.nanoTime() - t0;
        }
        double hitsAtStart = count(run, "lethe.cache.gets", "hit");
        long backAt = -1;
        long recoveryDeadline = System.nanoTime() + AFTER.toNanos();
        while (System.nanoTime() < recoveryDeadline) {
            if (backAt < 0 && count(run, "lethe.cache.gets", "hit") - hitsAtStart >= readsPerSecond / 10.0) {
                backAt = System.nanoTime() - t0; // a tenth of a second's reads served by the cache again
            }
            Thread.sleep(20);
        }
        stop.set(true);
        reader.join(10_000);
        writer.join(10_000);
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pending.get() > 0 && System.nanoTime() < drainDeadline) {
            Thread.sleep(10);
        }

        run.done("before the kill: %d entries in the near cache, %,.0f near-cache hits; after the outage: %d entries",
                nearBefore, nearHitsBefore, nearAfter);
        writerErrors.forEach(e -> run.expect(false, "the writer failed: " + e));
        run.expect(pending.get() == 0, pending.get() + " reads had not completed 10 s after the readers stopped");
        judge(run, new ArrayList<>(reads), writes, loadsPerSecond, maxLoading.get(), killAt, startAt, backAt);
        run.quiesce();
    }

    private void judge(ScenarioRun run, List<Read> reads, Map<Integer, List<Write>> writes, AtomicLongArray loadsPerSecond,
            int maxLoading, long killAt, long startAt, long backAt) {
        List<Read> during = reads.stream().filter(r -> r.at() >= killAt && r.at() < startAt).toList();
        long[] latencies = during.stream().mapToLong(Read::nanos).sorted().toArray();
        long p50 = percentile(latencies, 0.50);
        long p99 = percentile(latencies, 0.99);
        long max = latencies.length == 0 ? 0 : latencies[latencies.length - 1];
        long rejected = during.stream().filter(r -> r.seq() == -1).count();
        long failed = reads.stream().filter(r -> r.seq() == -2).count();
        long maxLoads = 0;
        for (int s = 0; s < loadsPerSecond.length(); s++) {
            maxLoads = Math.max(maxLoads, loadsPerSecond.get(s));
        }
        long outageLoads = 0;
        for (int s = (int) (killAt / 1_000_000_000L); s <= Math.min(loadsPerSecond.length() - 1, startAt / 1_000_000_000L); s++) {
            outageLoads += loadsPerSecond.get(s);
        }
        // staleness: a read returned seq s, completing at t; the first write of that item newer
        // than s committed at c < t means the value was t - c old. Reads that completed before
        // Redis was back are held to the stale bound plus the pipeline's allowance; later ones to
        // how fast the region consumer catches up (its retry backoff, at most RETRY_BACKOFF_MAX)
        long[] oldest = new long[2];
        List<String> tooOld = new ArrayList<>();
        long allowedDown = Duration.ofSeconds(STALE_SECONDS).plus(PIPELINE_ALLOWANCE).toNanos();
        long allowedBack = RETRY_BACKOFF_MAX.plus(PIPELINE_ALLOWANCE).toNanos();
        for (Read r : reads) {
            if (r.seq() < 0) {
                continue;
            }
            long servedAt = r.at() + r.nanos();
            int phase = servedAt < startAt ? 0 : 1;
            for (Write w : writes.get(r.id())) {
                if (w.seq() > r.seq() && w.at() < servedAt) {
                    long age = servedAt - w.at();
                    oldest[phase] = Math.max(oldest[phase], age);
                    if (age > (phase == 0 ? allowedDown : allowedBack) && tooOld.size() < 5) {
                        tooOld.add("item %d read v%d.%d at %.1f s, %.1f s after v%d.%d committed (%s)".formatted(r.id(), r.id(), r.seq(),
                                servedAt / 1e9, age / 1e9, r.id(), w.seq(), phase == 0 ? "before Redis was back" : "after Redis was back"));
                    }
                    break;
                }
            }
        }
        double staleServes = count(run, "lethe.cache.stale.serves", null);
        run.done("%,d reads at %,d/s; Redis killed at %.1f s for %d s, started again at %.1f s", reads.size(), readsPerSecond,
                killAt / 1e9, outage.toSeconds(), startAt / 1e9);
        run.done("during the outage: %,d reads, p50 %.1f ms, p99 %.1f ms, max %.1f ms (command timeout %d ms); %,d rejected (%.1f %%)",
                during.size(), p50 / 1e6, p99 / 1e6, max / 1e6, COMMAND_TIMEOUT.toMillis(), rejected,
                100.0 * rejected / Math.max(1, during.size()));
        run.done("database loads: at most %d in any second (bound %d), at most %d at once (bound %d); %,d during the outage "
                + "for %,d reads", maxLoads, MAX_PER_SECOND, maxLoading, MAX_CONCURRENT, outageLoads, during.size());
        run.done("%,.0f reads served stale from the near cache (bound %d s); oldest value read before Redis was back %.1f s "
                + "(allowed %d s + %d s pipeline), after %.1f s (allowed %d s retry backoff + %d s)", staleServes, STALE_SECONDS,
                oldest[0] / 1e9, STALE_SECONDS, PIPELINE_ALLOWANCE.toSeconds(), oldest[1] / 1e9, RETRY_BACKOFF_MAX.toSeconds(),
                PIPELINE_ALLOWANCE.toSeconds());
        run.done(backAt < 0
                ? "reads not back in the cache within %d s of Redis's return".formatted(AFTER.toSeconds())
                : "reads back in the cache %.1f s after Redis was started again".formatted((backAt - startAt) / 1e9));
        run.expect(maxLoads <= MAX_PER_SECOND + 1, "database loads in one second: " + maxLoads + " over the bound of " + MAX_PER_SECOND);
        run.expect(maxLoading <= MAX_CONCURRENT, "concurrent database loads: " + maxLoading + " over the bound of " + MAX_CONCURRENT);
        run.expect(p99 < P99_BOUND.toNanos(), "read p99 during the outage %.1f ms, not under %d ms".formatted(p99 / 1e6,
                P99_BOUND.toMillis()));
        run.expect(staleServes > 0, "no read was served stale from the near cache during the outage");
        tooOld.forEach(t -> run.expect(false, "a value older than allowed: " + t));
        run.expect(failed == 0, failed + " reads failed with something else than a load rejection");
        run.expect(backAt >= 0 && backAt - startAt <= TimeUnit.SECONDS.toNanos(RECOVERY_SECONDS),
                "reads back in the cache within " + RECOVERY_SECONDS + " s of Redis's return");
    }

    private static double breakerOpens(ScenarioRun run) {
        return run.registry().find("lethe.cache.redis.breaker.transitions").tag("to", "open").counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private static double count(ScenarioRun run, String name, String result) {
        Search search = run.registry().find(name).tag("namespace", "item");
        if (result != null) {
            search = search.tag("result", result);
        }
        return search.counters().stream().mapToDouble(Counter::count).sum();
    }

    private static long percentile(long[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private void read(CacheNamespace<String> items, io.lethe.cache.Loader<String> loader, String prefix, ConcurrentLinkedQueue<Read> reads,
            AtomicInteger pending, AtomicBoolean stop, long t0) {
        SplittableRandom random = new SplittableRandom(29);
        long interval = TimeUnit.SECONDS.toNanos(1) / readsPerSecond;
        long next = System.nanoTime();
        while (!stop.get()) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
                continue;
            }
            next += interval;
            int id = 1 + random.nextInt(ITEMS);
            long issued = System.nanoTime();
            pending.incrementAndGet();
            CompletableFuture<String> get;
            try {
                get = items.getAsync(prefix + "item:" + id, loader);
            } catch (RuntimeException e) {
                get = CompletableFuture.failedFuture(e);
            }
            get.whenComplete((value, error) -> {
                long took = System.nanoTime() - issued;
                int seq;
                if (error == null) {
                    seq = value == null ? -2 : Integer.parseInt(value.substring(value.indexOf('.') + 1));
                } else {
                    Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                            ? error.getCause()
                            : error;
                    seq = cause instanceof LoadRejectedException ? -1 : -2;
                }
                reads.add(new Read(issued - t0, took, id, seq));
                pending.decrementAndGet();
            });
        }
    }

    private static void write(ScenarioRun run, Map<Integer, List<Write>> writes, AtomicBoolean stop, long t0) {
        SplittableRandom random = new SplittableRandom(7);
        int[] seq = new int[ITEMS + 1];
        try (Connection c = run.connect(); PreparedStatement update = c.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
            long interval = TimeUnit.SECONDS.toNanos(1) / WRITES_PER_SECOND;
            long next = System.nanoTime();
            while (!stop.get()) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                    continue;
                }
                next += interval;
                int id = 1 + random.nextInt(ITEMS);
                seq[id]++;
                update.setString(1, "v" + id + "." + seq[id]);
                update.setInt(2, id);
                update.executeUpdate();
                writes.get(id).add(new Write(id, seq[id], System.nanoTime() - t0));
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("the writer failed", e);
        }
    }
}
