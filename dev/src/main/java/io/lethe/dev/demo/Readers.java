package io.lethe.dev.demo;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.embedded.PostgresEndpoint;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Application readers, one per region, reading through cache-client: product entries (version
 * unknown to the reader: fenced by the counter) and price entries (versioned by the version
 * column the reader selects).
 */
public final class Readers implements AutoCloseable {
    static final int DEMO_SHADOW_READS = 100;
    private final List<Thread> threads = new ArrayList<>();
    private final List<LetheCache> caches = new ArrayList<>();
    private final AtomicLong reads = new AtomicLong();
    private final MeterRegistry registry;
    private volatile boolean running = true;

    public Readers(Map<String, String> redisByRegion, PostgresEndpoint pg, String database, double readsPerSecond, MeterRegistry registry)
            throws SQLException {
        this.registry = registry;
        int seed = 0;
        for (Map.Entry<String, String> region : redisByRegion.entrySet()) {
            LetheCache cache = LetheCache.builder(region.getValue()).region(region.getKey()).meterRegistry(registry).loaderThreads(2)
                    .build();
            caches.add(cache);
            // shadow reads of 1 hit in 100 (applications default to 1 in 1,000): at the demo's read rates the
            // figure on the status line and page then moves within a minute
            Policy policy = Policy.eventual().withTtl(Duration.ofMinutes(10), 0.1).withShadowReads(DEMO_SHADOW_READS);
            CacheNamespace<String> products = cache.namespace("product", Codecs.utf8(), policy);
            CacheNamespace<String> prices = cache.namespace("price", Codecs.utf8(), policy);
            Connection c = DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
            SplittableRandom random = new SplittableRandom(++seed);
            Thread t = new Thread(() -> read(c, products, prices, random, readsPerSecond), "demo-reader-" + region.getKey());
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    private void read(Connection c, CacheNamespace<String> products, CacheNamespace<String> prices, SplittableRandom random,
            double rate) {
        long interval = (long) (1_000_000_000L / rate);
        try (c;
                PreparedStatement product = c.prepareStatement("SELECT slug, name, price FROM products WHERE id = ?");
                PreparedStatement price = c.prepareStatement("SELECT price, version FROM products WHERE id = ?")) {
            while (running) {
                int id = 1 + random.nextInt(DemoSetup.PRODUCTS);
                if (random.nextBoolean()) {
                    products.get("product:" + id, key -> {
                        synchronized (product) {
                            product.setInt(1, id);
                            try (ResultSet rs = product.executeQuery()) {
                                return rs.next()
                                        ? Loaded.of("{\"slug\":\"" + rs.getString(1) + "\",\"price\":" + rs.getInt(3) + "}")
                                        : Loaded.notFound();
                            }
                        }
                    });
                } else {
                    prices.get("price:" + id, key -> {
                        synchronized (price) {
                            price.setInt(1, id);
                            try (ResultSet rs = price.executeQuery()) {
                                return rs.next()
                                        ? Loaded.of("{\"price\":" + rs.getInt(1) + ",\"version\":" + rs.getInt(2) + "}", rs.getInt(2))
                                        : Loaded.notFound();
                            }
                        }
                    });
                }
                reads.incrementAndGet();
                LockSupport.parkNanos(interval);
            }
        } catch (SQLException | RuntimeException e) {
            if (running) {
                System.err.println("demo reader stopped: " + e);
            }
        }
    }

    public long reads() {
        return reads.get();
    }

    /** The readers' shadow reads so far, over every region and namespace (cache-client's {@code lethe.cache.inspector.checks}). */
    public ShadowFigure shadowReads() {
        long sampled = 0;
        long stale = 0;
        for (io.micrometer.core.instrument.Counter c : registry.find("lethe.cache.inspector.checks").counters()) {
            String result = c.getId().getTag("result");
            if ("dropped".equals(result)) {
                continue;
            }
            sampled += (long) c.count();
            if ("stale".equals(result)) {
                stale += (long) c.count();
            }
        }
        return new ShadowFigure(sampled, stale);
    }

    /**
     * Sampled reads checked against the database (dropped ones not counted) and, of them, confirmed
     * stale entries.
     */
    public record ShadowFigure(long sampled, long stale) {
        public static final ShadowFigure NONE = new ShadowFigure(0, 0);

        /** Confirmed stale entries per million sampled reads (0 before any). */
        public double perMillion() {
            return sampled == 0 ? 0 : stale * 1e6 / sampled;
        }

        public String line() {
            return String.format(java.util.Locale.ROOT, "shadow reads: %d sampled, %d confirmed stale (%.0f per million)",
                    sampled, stale, perMillion());
        }
    }

    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        caches.forEach(LetheCache::close);
    }
}
