package io.lethe.dev.verify;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.embedded.PostgresEndpoint;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writers and readers of the verify run. Writers update skewed rows in single-row and multi-row
 * transactions and move items between groups. Readers go through cache-client, loading from the
 * primary or from the delayed replica, and note how stale what they were served was.
 */
final class Workload implements AutoCloseable {
    private final PostgresEndpoint primary;
    private final PostgresEndpoint replica;
    private final List<Thread> threads = new ArrayList<>();
    private final List<LetheCache> caches = new ArrayList<>();
    private final AtomicLong commits = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong staleReads = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final Timer staleness;
    private final SimpleMeterRegistry cacheMetrics = new SimpleMeterRegistry();
    private volatile boolean running = true;
    private volatile boolean writing = true;
    private final List<Thread> writerThreads = new ArrayList<>();

    Workload(PostgresEndpoint primary, PostgresEndpoint replica, Map<String, String> redisByRegion, long seed,
            int writers, int readersPerRegion) {
        this.primary = primary;
        this.replica = replica;
        this.staleness = Timer.builder("verify.staleness").publishPercentiles(0.5, 0.99, 0.999)
                .distributionStatisticExpiry(Duration.ofDays(1)).distributionStatisticBufferLength(1).register(new SimpleMeterRegistry());
        for (int w = 0; w < writers; w++) {
            SplittableRandom random = new SplittableRandom(seed * 31 + w);
            Thread writer = new Thread(() -> write(random), "verify-writer-" + w);
            writerThreads.add(writer);
            threads.add(writer);
        }
        int n = 0;
        for (Map.Entry<String, String> region : redisByRegion.entrySet()) {
            LetheCache cache = LetheCache.builder(region.getValue()).shadowReadsHeal(false).timeout(Duration.ofSeconds(1)).loaderThreads(2)
                    .meterRegistry(cacheMetrics).build();
            caches.add(cache);
            for (int r = 0; r < readersPerRegion; r++) {
                SplittableRandom random = new SplittableRandom(seed * 977 + (n++));
                threads.add(new Thread(() -> read(cache, random), "verify-reader-" + region.getKey() + "-" + r));
            }
        }
        threads.forEach(t -> t.setDaemon(true));
    }

    void start() {
        threads.forEach(Thread::start);
    }

    /** A skewed id: low ids are hot. */
    private static int item(SplittableRandom random) {
        double u = random.nextDouble();
        return 1 + (int) Math.floor(VerifySchema.ITEMS * u * u * u);
    }

    private void write(SplittableRandom random) {
        while (running && writing) {
            try (Connection c = connect(primary)) {
                c.setAutoCommit(false);
                try (PreparedStatement update = c.prepareStatement(
                        "UPDATE items SET val = ?, version = version + 1, updated_at = clock_timestamp() WHERE id = ?");
                        PreparedStatement move = c.prepareStatement(
                                "UPDATE items SET grp = ?, version = version + 1, updated_at = clock_timestamp() WHERE id = ?")) {
                    while (running && writing) {
                        int kind = random.nextInt(10);
                        int rows = kind < 7 ? 1 : 2 + random.nextInt(4);
                        for (int i = 0; i < rows; i++) {
                            int id = item(random);
                            if (kind == 9) {
                                move.setInt(1, random.nextInt(VerifySchema.GROUPS));
                                move.setInt(2, id);
                                move.executeUpdate();
                            } else {
                                update.setInt(1, random.nextInt(1_000_000));
                                update.setInt(2, id);
                                update.executeUpdate();
                            }
                        }
                        c.commit();
                        commits.incrementAndGet();
                        Thread.sleep(15 + random.nextInt(20));
                    }
                }
            } catch (SQLException e) {
                errors.incrementAndGet(); // deadlock between writers, or PostgreSQL busy: try again
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void read(LetheCache cache, SplittableRandom random) {
        CacheNamespace<String> items = cache.namespace("item", Codecs.utf8(), Policy.eventual().withTtl(Duration.ofMinutes(30), 0.1));
        CacheNamespace<String> versioned = cache.namespace("itemv", Codecs.utf8(), Policy.eventual().withTtl(Duration.ofMinutes(30), 0.1));
        CacheNamespace<String> groups = cache.namespace("group", Codecs.utf8(), Policy.eventual().withTtl(Duration.ofMinutes(30), 0.1));
        while (running) {
            try (Connection fromPrimary = connect(primary); Connection fromReplica = connect(replica)) {
                while (running) {
                    Connection source = random.nextInt(10) < 7 ? fromPrimary : fromReplica;
                    int what = random.nextInt(3);
                    boolean stale;
                    String since;
                    if (what == 2) {
                        int grp = random.nextInt(VerifySchema.GROUPS);
                        since = "grp = " + grp;
                        String before = group(fromPrimary, grp);
                        String served = groups.get("group:" + grp + ":items", k -> Loaded.of(group(source, grp)));
                        stale = !served.equals(before) && !served.equals(group(fromPrimary, grp));
                    } else {
                        // readers spread over every item, writers favour the low ids: cold items keep
                        // their entries long enough to be checked after the drain
                        int id = 1 + random.nextInt(VerifySchema.ITEMS);
                        since = "id = " + id;
                        long before = version(row(fromPrimary, id));
                        String served = what == 0
                                ? items.get("item:" + id, k -> Loaded.of(row(source, id)))
                                : versioned.get("itemv:" + id, k -> {
                                    String row = row(source, id);
                                    return Loaded.of(row, version(row));
                                });
                        stale = version(served) < before; // older than the row was when the read began
                    }
                    reads.incrementAndGet();
                    if (stale) {
                        staleReads.incrementAndGet();
                        staleness.record(Duration.ofMillis(Math.max(0, ageMillis(fromPrimary, since))));
                    }
                    Thread.sleep(2 + random.nextInt(6));
                }
            } catch (SQLException | RuntimeException e) {
                errors.incrementAndGet();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    static long version(String row) {
        return Long.parseLong(row.substring(row.lastIndexOf(':') + 1));
    }

    /** An item's value as readers cache it: {@code val:version}. */
    static String row(Connection c, int id) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT val, version FROM items WHERE id = " + id)) {
            return rs.next() ? rs.getInt(1) + ":" + rs.getInt(2) : "none:0";
        }
    }

    /** A group's value as readers cache it: the sum of its items' values and their count. */
    static String group(Connection c, int grp) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT coalesce(sum(val), 0), count(*) FROM items WHERE grp = " + grp)) {
            rs.next();
            return rs.getLong(1) + "/" + rs.getLong(2);
        }
    }

    /**
     * How long the served value has been out of date, at least: the time since the newest update
     * of the row (or of the group's rows), which the served value misses.
     */
    private static long ageMillis(Connection c, String where) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "SELECT (extract(epoch FROM clock_timestamp() - max(updated_at)) * 1000)::bigint FROM items WHERE " + where)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private static Connection connect(PostgresEndpoint pg) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(VerifySchema.DATABASE), pg.user(), pg.password());
    }

    long commits() {
        return commits.get();
    }

    long reads() {
        return reads.get();
    }

    long staleReads() {
        return staleReads.get();
    }

    long errors() {
        return errors.get();
    }

    Timer staleness() {
        return staleness;
    }

    /** Gets and fills of the readers' caches by result, e.g. {@code gets hit=1200 miss=300 ...}. */
    String cacheCounts() {
        java.util.Map<String, Double> counts = new java.util.TreeMap<>();
        cacheMetrics.getMeters().forEach(m -> {
            if (m instanceof io.micrometer.core.instrument.Counter c && m.getId().getTag("result") != null) {
                counts.merge(m.getId().getName().replace("lethe.cache.", "") + " " + m.getId().getTag("result"), c.count(), Double::sum);
            }
        });
        StringBuilder sb = new StringBuilder();
        counts.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(v.longValue()));
        return sb.toString();
    }

    /** Stops the writers only; readers go on (and keep filling, from the primary and the replica). */
    void stopWriting() throws InterruptedException {
        writing = false;
        for (Thread t : writerThreads) {
            t.join(10_000);
        }
    }

    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            t.interrupt();
        }
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        caches.forEach(LetheCache::close);
    }
}
